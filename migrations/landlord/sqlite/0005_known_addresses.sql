-- The client addresses each staff account has signed in from in the last 30 days, as keyed hashes (never
-- the address itself). A correct password from one of them is not refused when someone elsewhere has used
-- up the account's failure allowance (see the README's sign-in limits).
create table known_addresses (
    account_id integer not null references accounts (id) on delete cascade,
    address_hash text not null,
    last_signed_in_at text not null,
    primary key (account_id, address_hash)
);
