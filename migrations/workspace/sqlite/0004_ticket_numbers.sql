-- PostgreSQL takes ticket numbers from a sequence from this version on. SQLite keeps the counter row:
-- its writers take turns anyway (one writer per file), so the row costs no waiting.
select 1;
