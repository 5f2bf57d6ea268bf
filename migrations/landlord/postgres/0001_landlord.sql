-- The landlord: the control plane. No ticket data lives here. Identity columns never reuse an id.

create table workspaces (
    id bigint generated always as identity primary key,
    slug text not null unique,
    name text not null,
    status text not null default 'provisioning'
        check (status in ('provisioning', 'active', 'suspended', 'deletion_scheduled')),
    plan text not null default 'trial',
    trial_ends_at timestamptz,
    deletion_due_at timestamptz,
    backend text not null check (backend in ('sqlite', 'postgres')),
    server text,
    db_name text,
    credentials text,
    schema_version bigint not null default 0,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table accounts (
    id bigint generated always as identity primary key,
    email text not null unique,
    name text not null,
    password_hash text,
    email_verified_at timestamptz,
    disabled_at timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table memberships (
    account_id bigint not null references accounts (id) on delete cascade,
    workspace_id bigint not null references workspaces (id) on delete cascade,
    role text not null check (role in ('owner', 'admin', 'agent')),
    created_at timestamptz not null,
    primary key (account_id, workspace_id)
);
create index memberships_workspace on memberships (workspace_id);

create table one_time_tokens (
    id bigint generated always as identity primary key,
    purpose text not null,
    token_hash text not null unique,
    account_id bigint references accounts (id) on delete cascade,
    workspace_id bigint references workspaces (id) on delete cascade,
    email text,
    payload text,
    attempts bigint not null default 0,
    expires_at timestamptz not null,
    consumed_at timestamptz,
    created_at timestamptz not null
);

create table jobs (
    id bigint generated always as identity primary key,
    kind text not null,
    payload text not null,
    workspace_id bigint references workspaces (id) on delete cascade,
    attempts bigint not null default 0,
    run_at timestamptz not null,
    locked_until timestamptz,
    last_error text,
    created_at timestamptz not null
);
create index jobs_due on jobs (run_at);

create table audit_events (
    id bigint generated always as identity primary key,
    account_id bigint references accounts (id) on delete set null,
    workspace_id bigint,
    action text not null,
    ip text,
    detail text,
    created_at timestamptz not null
);
