-- The customer side: what the enquiry form asks besides name and address, satisfaction ratings, and the
-- feedback inbox (bug reports and feature requests) with votes.

alter table customers add column company text not null default '';
alter table customers add column phone text not null default '';

-- One rating per ticket. Solving a ticket issues a token (only its hash is kept) that the requester's mail
-- carries; using it records the rating and replaces the token, so each token works once, and the rating
-- can be changed with the new one until `expires_at` (7 days after solving).
create table ratings (
    ticket_id bigint primary key references tickets (id) on delete cascade,
    rating text check (rating in ('good', 'bad')),
    comment text not null default '',
    token_hash text unique,
    expires_at timestamptz not null,
    rated_at timestamptz,
    updated_at timestamptz not null
);
create index ratings_rated on ratings (rated_at) where rated_at is not null;

create table feedback (
    id bigint generated always as identity primary key,
    kind text not null check (kind in ('bug', 'feature')),
    title text not null,
    description text not null,
    status text not null default 'new' check (status in ('new', 'planned', 'done', 'declined')),
    author_account_id bigint,
    author_customer_id bigint references customers (id) on delete set null,
    author_name text not null,
    screenshot_key text,
    screenshot_type text,
    votes bigint not null default 0,
    created_at timestamptz not null,
    updated_at timestamptz not null
);
create index feedback_status on feedback (status, votes desc, id desc);
create index feedback_customer on feedback (author_customer_id, id desc);

-- Who voted: 'account:<id>' or 'customer:<id>', once per item.
create table feedback_votes (
    feedback_id bigint not null references feedback (id) on delete cascade,
    voter text not null,
    created_at timestamptz not null,
    primary key (feedback_id, voter)
);
