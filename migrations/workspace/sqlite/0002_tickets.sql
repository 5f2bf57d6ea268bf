-- Tickets as agents work them: categories, tags, assignment, a rendered thread, attachments, saved views,
-- full-text search, view counts kept by triggers, and an outbox for the mail a change causes.

create table categories (
    id integer primary key autoincrement,
    name text not null unique collate nocase,
    created_at text not null
);

create table tags (
    id integer primary key autoincrement,
    name text not null unique
);

create table ticket_tags (
    ticket_id integer not null references tickets (id) on delete cascade,
    tag_id integer not null references tags (id) on delete cascade,
    primary key (ticket_id, tag_id)
) without rowid;
create index ticket_tags_tag on ticket_tags (tag_id, ticket_id);

alter table tickets add column category_id integer references categories (id);
-- Denormalized for the list page, which must not join per row: who asked, and who works it.
alter table tickets add column requester_name text not null default '';
alter table tickets add column requester_email text not null default '';
alter table tickets add column assignee_name text;
alter table tickets add column assignee_email text;
-- The Message-ID of the ticket's first mail: later mails reference it so clients thread them.
alter table tickets add column thread_id text not null default '';

-- The list's sort orders, each with the filters people use most in front.
create index tickets_updated on tickets (updated_at desc, id desc);
create index tickets_status_updated on tickets (status, updated_at desc, id desc);
create index tickets_assignee_updated on tickets (assignee_account_id, status, updated_at desc, id desc);
create index tickets_requester_updated on tickets (requester_id, updated_at desc, id desc);
create index tickets_category_updated on tickets (category_id, updated_at desc, id desc);
create index tickets_solved on tickets (solved_at) where solved_at is not null;
drop index tickets_requester;

alter table messages add column html text not null default '';
alter table messages add column author_name text not null default '';
alter table messages add column edited_at text;

create table attachments (
    id integer primary key autoincrement,
    ticket_id integer not null references tickets (id) on delete cascade,
    message_id integer not null references messages (id) on delete cascade,
    file_name text not null,
    content_type text not null,
    size integer not null,
    storage_key text not null unique,
    created_at text not null
);
create index attachments_message on attachments (message_id);

create table saved_views (
    id integer primary key autoincrement,
    account_id integer not null,
    name text not null,
    query text not null,
    created_at text not null,
    unique (account_id, name)
);

-- One search document per ticket: subject, every message, the requester. Kept by the application in the
-- transaction of each write.
create virtual table ticket_search using fts5(
    subject, body, requester,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Counts per (status, assignee) so the built-in views count without scanning: 0 stands for unassigned.
create table ticket_counts (
    status text not null,
    assignee integer not null,
    n integer not null,
    primary key (status, assignee)
) without rowid;
insert into ticket_counts (status, assignee, n)
    select status, coalesce(assignee_account_id, 0), count(*) from tickets group by 1, 2;

create trigger ticket_counts_insert after insert on tickets begin
    insert into ticket_counts (status, assignee, n) values (new.status, coalesce(new.assignee_account_id, 0), 1)
        on conflict (status, assignee) do update set n = n + 1;
end;
create trigger ticket_counts_delete after delete on tickets begin
    update ticket_counts set n = n - 1
        where status = old.status and assignee = coalesce(old.assignee_account_id, 0);
end;
create trigger ticket_counts_update after update of status, assignee_account_id on tickets
    when old.status is not new.status or old.assignee_account_id is not new.assignee_account_id
begin
    update ticket_counts set n = n - 1
        where status = old.status and assignee = coalesce(old.assignee_account_id, 0);
    insert into ticket_counts (status, assignee, n) values (new.status, coalesce(new.assignee_account_id, 0), 1)
        on conflict (status, assignee) do update set n = n + 1;
end;

-- Mail a change causes, written in the change's transaction and moved to the landlord's job queue after
-- commit (and by housekeeping, should the process stop in between). Sealed like queued mail.
create table outbox (
    id integer primary key autoincrement,
    payload text not null,
    created_at text not null
);
