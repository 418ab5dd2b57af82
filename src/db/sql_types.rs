//! The domain's named enums stored as text on both backends: row structs hold
//! `RequestStatus`, not `String`, and queries filter on `RequestStatus::Draft`, not on a literal.
//! Generic over the backend, so they work through `MultiConnection` as well as on each
//! backend directly. A stored name the domain does not know fails the row's read.

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, Queryable};
use diesel::expression::AsExpression;
use diesel::internal::derives::as_expression::Bound;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Nullable, SingleValue, Text};

use crate::domain::account::{AccountStatus, Language, Role};
use crate::domain::mail::{EmailKind, OutboxStatus, TokenPurpose};
use crate::domain::meeting::MeetingStatus;
use crate::domain::opinion::OpinionStatus;
use crate::domain::request_form::{Topic, Urgency};
use crate::domain::request_status::RequestStatus;

macro_rules! stored_as_text {
    ($($ty:ty),+ $(,)?) => {$(
        impl AsExpression<Text> for $ty {
            type Expression = Bound<Text, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl AsExpression<Nullable<Text>> for $ty {
            type Expression = Bound<Nullable<Text>, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl<'a> AsExpression<Text> for &'a $ty {
            type Expression = Bound<Text, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl<'a> AsExpression<Nullable<Text>> for &'a $ty {
            type Expression = Bound<Nullable<Text>, Self>;
            fn as_expression(self) -> Self::Expression {
                Bound::new(self)
            }
        }

        impl<DB: Backend> ToSql<Text, DB> for $ty
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                self.as_str().to_sql(out)
            }
        }

        impl<DB: Backend> ToSql<Nullable<Text>, DB> for $ty
        where
            str: ToSql<Text, DB>,
        {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, DB>) -> serialize::Result {
                ToSql::<Text, DB>::to_sql(self, out)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $ty
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let name = String::from_sql(bytes)?;
                <$ty>::parse(&name).ok_or_else(|| {
                    format!("unknown {} {name:?} in the database", stringify!($ty)).into()
                })
            }
        }

        impl<DB: Backend, ST: SingleValue> Queryable<ST, DB> for $ty
        where
            Self: FromSql<ST, DB>,
        {
            type Row = Self;
            fn build(row: Self) -> deserialize::Result<Self> {
                Ok(row)
            }
        }
    )+};
}

stored_as_text!(
    RequestStatus,
    Topic,
    Urgency,
    MeetingStatus,
    OpinionStatus,
    AccountStatus,
    Role,
    Language,
    OutboxStatus,
    EmailKind,
    TokenPurpose,
);
