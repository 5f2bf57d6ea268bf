-- Ticket numbers come from a sequence. Taking the next value locks nothing, so concurrent creations no
-- longer wait for each other's commit, as they did on the counter row (locked until commit, and a commit
-- waits for its WAL flush). A creation that fails after taking its number leaves that number unused.
create sequence ticket_numbers as bigint minvalue 1;
select setval('ticket_numbers',
              greatest((select value from counters where name = 'ticket_number'),
                       (select coalesce(max(number), 0) from tickets)) + 1,
              false);
delete from counters where name = 'ticket_number';

-- The view counts are kept in shards: each database connection adds to its own row of a
-- (status, assignee) pair, so concurrent creations do not queue on one row until each other's commit.
-- A count is the sum over its shards (a shard may go below zero when another added the ticket).
alter table ticket_counts add column shard integer not null default 0;
alter table ticket_counts drop constraint ticket_counts_pkey;
alter table ticket_counts add primary key (status, assignee, shard);

create or replace function ticket_counts_keep() returns trigger language plpgsql as $$
declare
    own integer := pg_backend_pid() % 64;
begin
    if tg_op in ('UPDATE', 'DELETE') then
        insert into ticket_counts (status, assignee, shard, n)
            values (old.status, coalesce(old.assignee_account_id, 0), own, -1)
            on conflict (status, assignee, shard) do update set n = ticket_counts.n - 1;
    end if;
    if tg_op in ('UPDATE', 'INSERT') then
        insert into ticket_counts (status, assignee, shard, n)
            values (new.status, coalesce(new.assignee_account_id, 0), own, 1)
            on conflict (status, assignee, shard) do update set n = ticket_counts.n + 1;
    end if;
    return null;
end;
$$;
