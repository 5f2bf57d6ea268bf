-- One organization's database. Everything of the workspace lives here, nothing of any other.

create table customers (
    id integer primary key autoincrement,
    email text not null unique,
    name text not null,
    created_at text not null,
    updated_at text not null
);

create table counters (
    name text primary key,
    value integer not null
);
insert into counters (name, value) values ('ticket_number', 0);

create table tickets (
    id integer primary key autoincrement,
    number integer not null unique,
    subject text not null,
    status text not null default 'new'
        check (status in ('new', 'open', 'pending', 'on_hold', 'solved', 'closed')),
    priority text not null default 'normal' check (priority in ('low', 'normal', 'high', 'urgent')),
    requester_id integer not null references customers (id),
    assignee_account_id integer,
    created_at text not null,
    updated_at text not null,
    solved_at text
);
create index tickets_requester on tickets (requester_id);

create table messages (
    id integer primary key autoincrement,
    ticket_id integer not null references tickets (id) on delete cascade,
    author_account_id integer,
    author_customer_id integer references customers (id),
    kind text not null check (kind in ('reply', 'note', 'event')),
    body text not null,
    created_at text not null
);
create index messages_ticket on messages (ticket_id, id);

create table settings (
    key text primary key,
    value text not null,
    updated_at text not null
);

create table audit_log (
    id integer primary key autoincrement,
    actor text not null,
    action text not null,
    subject text,
    ip text,
    detail text,
    created_at text not null
);
