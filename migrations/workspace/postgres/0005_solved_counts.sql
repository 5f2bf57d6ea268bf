-- "Recently solved" (the last seven days) is counted from hourly buckets kept by triggers: the sum of
-- about 168 bucket rows plus the tickets solved in the first, partial hour, instead of counting every
-- ticket solved in the window (thousands of index entries on every list page of a busy workspace).
-- One row an hour, hours since 1970 in UTC. A count may go below zero in an hour whose row another
-- transaction created; only sums are read.
create table solved_counts (
    hour bigint primary key,
    n bigint not null
);
insert into solved_counts (hour, n)
    select floor(extract(epoch from solved_at) / 3600)::bigint, count(*)
    from tickets where solved_at is not null group by 1;

create function solved_counts_keep() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') and old.solved_at is not null then
        insert into solved_counts (hour, n) values (floor(extract(epoch from old.solved_at) / 3600)::bigint, -1)
            on conflict (hour) do update set n = solved_counts.n - 1;
    end if;
    if tg_op in ('UPDATE', 'INSERT') and new.solved_at is not null then
        insert into solved_counts (hour, n) values (floor(extract(epoch from new.solved_at) / 3600)::bigint, 1)
            on conflict (hour) do update set n = solved_counts.n + 1;
    end if;
    return null;
end;
$$;
-- Only changes that move a solved time call the function: creating an unsolved ticket costs nothing.
create trigger solved_counts_insert after insert on tickets
    for each row when (new.solved_at is not null) execute function solved_counts_keep();
create trigger solved_counts_delete after delete on tickets
    for each row when (old.solved_at is not null) execute function solved_counts_keep();
create trigger solved_counts_update after update of solved_at on tickets
    for each row when (old.solved_at is distinct from new.solved_at) execute function solved_counts_keep();
