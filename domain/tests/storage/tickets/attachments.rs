//! Attachments: typed by their content, limited in size, and scoped to their ticket.

use crate::helpers::{TestEnv, agent, new_ticket};
use chrono::Utc;
use domain::{
    Error,
    workspace::{
        attachments::{self, FileStore, Limits, Upload},
        tickets::{self, Kind},
    },
};

testkit::both_backends!(setup = crate::helpers::env; attachments_are_typed_by_content_limited_and_scoped_to_their_ticket);

async fn attachments_are_typed_by_content_limited_and_scoped_to_their_ticket(env: TestEnv) {
    let workspace = env.router.create_workspace("acme", "Acme").await.unwrap();
    let ws = env.router.open(workspace.id).await.unwrap();
    let store = FileStore::new(&env.config.data_dir);
    let me = agent(1, "Ada Agent", "acme");
    let now = Utc::now();
    let one = tickets::create(&ws, &me, &new_ticket("a@example.com", "One", "x"), now)
        .await
        .unwrap();
    let two = tickets::create(&ws, &me, &new_ticket("b@example.com", "Two", "x"), now)
        .await
        .unwrap();
    let png = Upload {
        file_name: "../../shot\r\n.png".into(),
        bytes: tiny_png(),
    };
    let log = Upload {
        file_name: "log.txt".into(),
        bytes: b"line 1\nline 2\n".to_vec(),
    };
    let limits = Limits::default();
    attachments::add_message_with_files(
        &ws,
        &store,
        &me,
        one.id,
        Kind::Reply,
        "See files",
        None,
        &[png, log],
        limits,
        now,
    )
    .await
    .unwrap();
    let secret = Upload {
        file_name: "internal.txt".into(),
        bytes: b"internal only".to_vec(),
    };
    attachments::add_message_with_files(
        &ws,
        &store,
        &me,
        one.id,
        Kind::Note,
        "Note",
        None,
        &[secret],
        limits,
        now,
    )
    .await
    .unwrap();
    let all = attachments::of_ticket(&ws, one.id, false).await.unwrap();
    assert_eq!(all.len(), 3);
    assert_eq!(
        (all[0].file_name.as_str(), all[0].content_type.as_str()),
        ("shot.png", "image/png")
    );
    assert!(all[0].is_image());
    assert_eq!(all[1].content_type, "text/plain");
    assert_eq!(
        attachments::of_ticket(&ws, one.id, true).await.unwrap().len(),
        2,
        "a note's files are not public"
    );
    let (found, bytes) = attachments::open(&ws, &store, one.id, all[1].id).await.unwrap();
    assert_eq!((found.id, bytes.as_slice()), (all[1].id, &b"line 1\nline 2\n"[..]));
    assert!(
        matches!(
            attachments::open(&ws, &store, two.id, all[1].id).await,
            Err(Error::NotFound)
        ),
        "wrong ticket"
    );

    let svg = Upload {
        file_name: "logo.png".into(),
        bytes: b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>".to_vec(),
    };
    let refused =
        attachments::add_message_with_files(&ws, &store, &me, two.id, Kind::Reply, "x", None, &[svg], limits, now)
            .await;
    assert!(
        matches!(refused, Err(Error::Invalid(ref m)) if m.contains("logo.png")),
        "{refused:?}"
    );
    let small = Limits {
        per_file: 1024,
        ..limits
    };
    let big = Upload {
        file_name: "big.bin".into(),
        bytes: vec![0; 2048],
    };
    let refused =
        attachments::add_message_with_files(&ws, &store, &me, two.id, Kind::Reply, "x", None, &[big], small, now).await;
    assert!(matches!(refused, Err(Error::TooLarge(_))));
    assert_eq!(
        tickets::thread(&ws, two.id, false).await.unwrap().len(),
        1,
        "refused messages leave nothing"
    );
    let files_dir = env.config.data_dir.join("files").join(workspace.id.to_string());
    assert_eq!(std::fs::read_dir(&files_dir).unwrap().count(), 3, "no stray files");
    // A message refused after the files were stored takes its files with it.
    let orphan = Upload {
        file_name: "a.txt".into(),
        bytes: b"a".to_vec(),
    };
    assert!(
        attachments::add_message_with_files(&ws, &store, &me, 9999, Kind::Reply, "x", None, &[orphan], limits, now)
            .await
            .is_err()
    );
    assert_eq!(std::fs::read_dir(&files_dir).unwrap().count(), 3);
}

fn tiny_png() -> Vec<u8> {
    // A 1×1 transparent PNG.
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    png.extend_from_slice(&[
        0, 0, 0, 0x0D, b'I', b'H', b'D', b'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1F, 0x15, 0xC4, 0x89,
    ]);
    png.extend_from_slice(&[
        0, 0, 0, 0x0A, b'I', b'D', b'A', b'T', 0x78, 0x9C, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0D, 0x0A, 0x2D, 0xB4,
    ]);
    png.extend_from_slice(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82]);
    png
}
