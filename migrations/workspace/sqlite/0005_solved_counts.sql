-- "Recently solved" (the last seven days) is counted from hourly buckets kept by triggers: the sum of
-- about 168 bucket rows plus the tickets solved in the first, partial hour, instead of counting every
-- ticket solved in the window. One row an hour, hours since 1970 in UTC.
create table solved_counts (
    hour integer primary key,
    n integer not null
);
insert into solved_counts (hour, n)
    select cast(strftime('%s', solved_at) as integer) / 3600, count(*)
    from tickets where solved_at is not null group by 1;

create trigger solved_counts_insert after insert on tickets when new.solved_at is not null begin
    insert into solved_counts (hour, n) values (cast(strftime('%s', new.solved_at) as integer) / 3600, 1)
        on conflict (hour) do update set n = n + 1;
end;
create trigger solved_counts_delete after delete on tickets when old.solved_at is not null begin
    insert into solved_counts (hour, n) values (cast(strftime('%s', old.solved_at) as integer) / 3600, -1)
        on conflict (hour) do update set n = n - 1;
end;
create trigger solved_counts_update after update of solved_at on tickets
    when old.solved_at is not new.solved_at
begin
    insert into solved_counts (hour, n)
        select cast(strftime('%s', old.solved_at) as integer) / 3600, -1 where old.solved_at is not null
        on conflict (hour) do update set n = n - 1;
    insert into solved_counts (hour, n)
        select cast(strftime('%s', new.solved_at) as integer) / 3600, 1 where new.solved_at is not null
        on conflict (hour) do update set n = n + 1;
end;
