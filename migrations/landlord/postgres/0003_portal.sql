-- Signed-in sessions of customers in a workspace's portal. Kept apart from staff sign-ins: a portal
-- session names a workspace and one of its customers, never an account, so no staff check can pass on it.
-- As for staff, the cookie session holds only this row's id and deleting the row ends the session.
create table portal_sign_ins (
    id text primary key,
    workspace_id bigint not null references workspaces (id) on delete cascade,
    -- the customer's id in the workspace's own database
    customer_id bigint not null,
    session_id text,
    created_at timestamptz not null,
    last_seen_at timestamptz not null,
    ip text,
    user_agent text
);
create index portal_sign_ins_customer on portal_sign_ins (workspace_id, customer_id);
