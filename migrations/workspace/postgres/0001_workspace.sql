-- One organization's database. Everything of the workspace lives here, nothing of any other.

create table customers (
    id bigint generated always as identity primary key,
    email text not null unique,
    name text not null,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table counters (
    name text primary key,
    value bigint not null
);
insert into counters (name, value) values ('ticket_number', 0);

create table tickets (
    id bigint generated always as identity primary key,
    number bigint not null unique,
    subject text not null,
    status text not null default 'new'
        check (status in ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')),
    priority text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
    requester_id bigint not null references customers (id),
    assignee_account_id bigint,
    created_at timestamptz not null,
    updated_at timestamptz not null,
    solved_at timestamptz
);
create index tickets_requester on tickets (requester_id);

create table messages (
    id bigint generated always as identity primary key,
    ticket_id bigint not null references tickets (id) on delete cascade,
    author_account_id bigint,
    author_customer_id bigint references customers (id),
    kind text not null check (kind in ('reply', 'note', 'event')),
    body text not null,
    created_at timestamptz not null
);
create index messages_ticket on messages (ticket_id, id);

create table settings (
    key text primary key,
    value text not null,
    updated_at timestamptz not null
);

create table audit_log (
    id bigint generated always as identity primary key,
    actor text not null,
    action text not null,
    subject text,
    ip text,
    detail text,
    created_at timestamptz not null
);
