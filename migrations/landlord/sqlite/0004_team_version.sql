-- A workspace's team (its members' names, addresses and roles) changes rarely but is shown on nearly every
-- page. Every change to it moves the workspace's team_version on, in the same transaction, so a copy of the
-- team held in memory is known to be current from the version the sign-in check already reads.
alter table workspaces add column team_version integer not null default 0;

create trigger memberships_added after insert on memberships
begin
    update workspaces set team_version = team_version + 1 where id = new.workspace_id;
end;

create trigger memberships_changed after update on memberships
begin
    update workspaces set team_version = team_version + 1 where id in (old.workspace_id, new.workspace_id);
end;

create trigger memberships_removed after delete on memberships
begin
    update workspaces set team_version = team_version + 1 where id = old.workspace_id;
end;

create trigger accounts_renamed after update of name, email on accounts
when old.name is not new.name or old.email is not new.email
begin
    update workspaces set team_version = team_version + 1
    where id in (select workspace_id from memberships where account_id = new.id);
end;
