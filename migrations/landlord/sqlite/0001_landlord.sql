-- The landlord: the control plane. No ticket data lives here.
-- AUTOINCREMENT: a deleted workspace's id (and so its file name) is never handed out again.

create table workspaces (
    id integer primary key autoincrement,
    slug text not null unique,
    name text not null,
    status text not null default 'provisioning'
        check (status in ('provisioning', 'active', 'suspended', 'deletion_scheduled')),
    plan text not null default 'trial',
    trial_ends_at text,
    deletion_due_at text,
    backend text not null check (backend in ('sqlite', 'postgres')),
    -- postgres: the configured tenant server holding the database, and the database (= role) name
    server text,
    db_name text,
    -- sealed (see domain::crypto): the SQLCipher key of the file, or the role's connection URL
    credentials text,
    schema_version integer not null default 0,
    created_at text not null,
    updated_at text not null
);

create table accounts (
    id integer primary key autoincrement,
    -- stored lower-cased
    email text not null unique,
    name text not null,
    password_hash text,
    email_verified_at text,
    disabled_at text,
    created_at text not null,
    updated_at text not null
);

create table memberships (
    account_id integer not null references accounts (id) on delete cascade,
    workspace_id integer not null references workspaces (id) on delete cascade,
    role text not null check (role in ('owner', 'admin', 'agent')),
    created_at text not null,
    primary key (account_id, workspace_id)
);
create index memberships_workspace on memberships (workspace_id);

-- Magic links, OTP codes, invitations, password resets: only hashes are stored.
create table one_time_tokens (
    id integer primary key autoincrement,
    purpose text not null,
    token_hash text not null unique,
    account_id integer references accounts (id) on delete cascade,
    workspace_id integer references workspaces (id) on delete cascade,
    email text,
    payload text,
    attempts integer not null default 0,
    expires_at text not null,
    consumed_at text,
    created_at text not null
);

create table jobs (
    id integer primary key autoincrement,
    kind text not null,
    payload text not null,
    workspace_id integer references workspaces (id) on delete cascade,
    attempts integer not null default 0,
    run_at text not null,
    locked_until text,
    last_error text,
    created_at text not null
);
create index jobs_due on jobs (run_at);

create table audit_events (
    id integer primary key autoincrement,
    account_id integer references accounts (id) on delete set null,
    workspace_id integer,
    action text not null,
    ip text,
    detail text,
    created_at text not null
);
