//! `ferrodesk seed`: fills a workspace with realistic tickets (see `domain::workspace::seed`), for demos and
//! for the benchmarks. Tickets are spread over the workspace's members; with `agents` greater than the
//! team, more agent accounts are added first (`seed-agent-<n>@<slug>.seed.invalid`, with a random password
//! nobody knows: they exist to be assigned tickets).

use domain::{
    TenantRouter,
    auth::{accounts, accounts::Role, team},
    crypto,
    workspace::{
        seed::{self, SeedOptions, SeedReport},
        tickets::Assignee,
    },
};
use secrecy::SecretString;

const NAMES: &[&str] = &[
    "Alex Morgan",
    "Sam Rivera",
    "Jordan Lee",
    "Taylor Kim",
    "Casey Novak",
    "Robin Diaz",
    "Jamie Okoro",
    "Avery Chen",
    "Riley Haas",
    "Drew Patel",
    "Morgan Silva",
    "Parker Ng",
    "Quinn Adler",
    "Reese Ivanov",
    "Sasha Berg",
    "Toni Costa",
];

pub async fn seed_workspace(
    router: &TenantRouter,
    slug: &str,
    tickets: u64,
    agents: usize,
    progress: impl FnMut(u64, u64),
) -> Result<SeedReport, String> {
    let landlord = router.landlord();
    let workspace = landlord
        .workspace_by_slug(slug)
        .await
        .map_err(|e| format!("no workspace {slug}: {e}"))?;
    let mut members = team::members(landlord, workspace.id).await.map_err(|e| e.to_string())?;
    let mut n = 0;
    while members.len() < agents {
        n += 1;
        let email = format!("seed-agent-{n}@{slug}.seed.invalid");
        if members.iter().any(|m| m.email == email) {
            continue;
        }
        let password = SecretString::from(hex::encode(*crypto::random_bytes::<24>()));
        let name = NAMES[(n - 1) % NAMES.len()];
        let account = match accounts::create(landlord, &email, name, &password).await {
            Ok(account) => account,
            Err(_) => accounts::by_email(landlord, &email).await.map_err(|e| e.to_string())?,
        };
        accounts::set_membership(landlord, account.id, workspace.id, Role::Agent)
            .await
            .map_err(|e| e.to_string())?;
        members = team::members(landlord, workspace.id).await.map_err(|e| e.to_string())?;
    }
    let ws = router.open(workspace.id).await.map_err(|e| e.to_string())?;
    let options = SeedOptions {
        tickets,
        agents: members
            .into_iter()
            .map(|m| Assignee {
                account_id: m.account_id,
                name: m.name,
                email: m.email,
            })
            .collect(),
        customers: None,
        seed: 0x5eed_0000 ^ workspace.id.get() as u64,
        batch: 5000,
        now: chrono::Utc::now(),
    };
    seed::seed(&ws, &options, progress)
        .await
        .map_err(|e| format!("seeding failed: {e}"))
}
