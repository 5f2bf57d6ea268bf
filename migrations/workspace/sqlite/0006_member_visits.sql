-- When each member last looked at the workspace's start page: "what changed since your last visit" lists the
-- tickets others changed after `since_at`, the end of the member's previous visit (null before there was one).
create table member_visits (
    account_id integer primary key,
    seen_at text not null,
    since_at text
);
