-- A workspace's team (its members' names, addresses and roles) changes rarely but is shown on nearly every
-- page. Every change to it moves the workspace's team_version on, in the same transaction, so a copy of the
-- team held in memory is known to be current from the version the sign-in check already reads.
alter table workspaces add column team_version bigint not null default 0;

create function memberships_bump_team_version() returns trigger language plpgsql as $$
begin
    if tg_op in ('UPDATE', 'DELETE') then
        update workspaces set team_version = team_version + 1 where id = old.workspace_id;
    end if;
    if tg_op = 'INSERT' or (tg_op = 'UPDATE' and new.workspace_id <> old.workspace_id) then
        update workspaces set team_version = team_version + 1 where id = new.workspace_id;
    end if;
    return null;
end
$$;

create trigger memberships_team_version after insert or update or delete on memberships
for each row execute function memberships_bump_team_version();

create function accounts_bump_team_version() returns trigger language plpgsql as $$
begin
    update workspaces set team_version = team_version + 1
    where id in (select workspace_id from memberships where account_id = new.id);
    return null;
end
$$;

create trigger accounts_team_version after update of name, email on accounts
for each row when (old.name is distinct from new.name or old.email is distinct from new.email)
execute function accounts_bump_team_version();
