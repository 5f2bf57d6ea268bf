-- Signed-in sessions of staff accounts. The tower-sessions record (cookie) holds only this row's id;
-- the row is what makes the session signed in, so deleting it (sign out elsewhere, password reset,
-- suspension) ends the session at its next request. The id is 128 random bits, hex.
create table sign_ins (
    id text primary key,
    account_id integer not null references accounts (id) on delete cascade,
    -- the tower-sessions id, to delete the record with the row
    session_id text,
    created_at text not null,
    last_seen_at text not null,
    ip text,
    user_agent text
);
create index sign_ins_account on sign_ins (account_id);

-- A workspace may require an emailed code as a second step when its staff sign in.
alter table workspaces add column require_sign_in_code integer not null default 0;
