-- Tickets as agents work them: categories, tags, assignment, a rendered thread, attachments, saved views,
-- full-text search, view counts kept by triggers, and an outbox for the mail a change causes.

create table categories (
    id bigint generated always as identity primary key,
    name text not null,
    created_at timestamptz not null
);
create unique index categories_name on categories (lower(name));

create table tags (
    id bigint generated always as identity primary key,
    name text not null unique
);

create table ticket_tags (
    ticket_id bigint not null references tickets (id) on delete cascade,
    tag_id bigint not null references tags (id) on delete cascade,
    primary key (ticket_id, tag_id)
);
create index ticket_tags_tag on ticket_tags (tag_id, ticket_id);

alter table tickets add column category_id bigint references categories (id);
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
alter table messages add column edited_at timestamptz;

create table attachments (
    id bigint generated always as identity primary key,
    ticket_id bigint not null references tickets (id) on delete cascade,
    message_id bigint not null references messages (id) on delete cascade,
    file_name text not null,
    content_type text not null,
    size bigint not null,
    storage_key text not null unique,
    created_at timestamptz not null
);
create index attachments_message on attachments (message_id);

create table saved_views (
    id bigint generated always as identity primary key,
    account_id bigint not null,
    name text not null,
    query text not null,
    created_at timestamptz not null,
    unique (account_id, name)
);

-- One search document per ticket: subject (weight A), requester (B), every message (D). Kept by the
-- application in the transaction of each write.
create table ticket_search (
    ticket_id bigint primary key references tickets (id) on delete cascade,
    document tsvector not null
);
create index ticket_search_document on ticket_search using gin (document);

-- Counts per (status, assignee) so the built-in views count without scanning: 0 stands for unassigned.
create table ticket_counts (
    status text not null,
    assignee bigint not null,
    n bigint not null,
    primary key (status, assignee)
);
insert into ticket_counts (status, assignee, n)
    select status, coalesce(assignee_account_id, 0), count(*) from tickets group by 1, 2;

create function ticket_counts_keep() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        update ticket_counts set n = n - 1
            where status = old.status and assignee = coalesce(old.assignee_account_id, 0);
    end if;
    if tg_op in ('UPDATE', 'INSERT') then
        insert into ticket_counts (status, assignee, n) values (new.status, coalesce(new.assignee_account_id, 0), 1)
            on conflict (status, assignee) do update set n = ticket_counts.n + 1;
    end if;
    return null;
end;
$$;
create trigger ticket_counts_insert_delete after insert or delete on tickets
    for each row execute function ticket_counts_keep();
create trigger ticket_counts_update after update of status, assignee_account_id on tickets
    for each row when (old.status is distinct from new.status
                       or old.assignee_account_id is distinct from new.assignee_account_id)
    execute function ticket_counts_keep();

-- Mail a change causes, written in the change's transaction and moved to the landlord's job queue after
-- commit (and by housekeeping, should the process stop in between). Sealed like queued mail.
create table outbox (
    id bigint generated always as identity primary key,
    payload text not null,
    created_at timestamptz not null
);
