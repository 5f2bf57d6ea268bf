//! Rows read by column position: [`read_by_position!`](crate::read_by_position!) and what it needs.
//!
//! The derived `FromRow` looks each column up by name and checks each value's database type against the
//! field's; a list page reads 51 tickets of 15 columns, and those lookups and checks were 5.5 % of its
//! instructions. A positional reader reads column *i* into the *i*-th field listed, so a statement read into
//! it must select exactly those columns in that order: each reader names them (`READ_ORDER`), and the
//! storage tests describe every statement read into one, on both backends, and compare
//! ([`crate::workspace::positional_statements`]).

/// A closed set's value (a [`vocab`] word such as a ticket's status) from its stored text, or a decode error
/// naming the column.
pub fn word<T>(text: &str, index: usize) -> Result<T, sqlx::Error>
where
    T: std::str::FromStr,
    T::Err: std::error::Error + Send + Sync + 'static,
{
    text.parse().map_err(|error: T::Err| sqlx::Error::ColumnDecode {
        index: index.to_string(),
        source: Box::new(error),
    })
}

/// Defines a struct and its `sqlx::FromRow` on both backends, reading the columns by position in the order
/// its fields are written; a field marked `#[word]` holds a [`vocab`] word read from its stored text
/// (borrowed, not allocated). Also gives the struct `READ_ORDER`, the column names in that order.
#[macro_export]
macro_rules! read_by_position {
    (
        $(#[$meta:meta])*
        $vis:vis struct $ty:ident {
            $($(#[$word:ident])? $fvis:vis $field:ident : $fty:ty),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $ty {
            $($fvis $field: $fty,)+
        }

        impl $ty {
            /// The columns a statement read into this type selects, in this order.
            pub const READ_ORDER: &'static [&'static str] = &[$(stringify!($field)),+];
        }

        $crate::read_by_position!(@impl $ty, sqlx::sqlite::SqliteRow, $($field $($word)?),+);
        $crate::read_by_position!(@impl $ty, sqlx::postgres::PgRow, $($field $($word)?),+);
    };
    (@impl $ty:ident, $row:ty, $($field:ident $($word:ident)?),+) => {
        impl<'r> sqlx::FromRow<'r, $row> for $ty {
            #[allow(unused_assignments)]
            fn from_row(row: &'r $row) -> std::result::Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                let mut index = 0usize;
                Ok($ty {
                    $($field: {
                        let value = $crate::read_by_position!(@column row, index $(, $word)?);
                        index += 1;
                        value
                    },)+
                })
            }
        }
    };
    (@column $row:ident, $index:ident) => {
        $row.try_get_unchecked($index)?
    };
    (@column $row:ident, $index:ident, word) => {
        $crate::db::rows::word($row.try_get_unchecked::<&str, _>($index)?, $index)?
    };
}
