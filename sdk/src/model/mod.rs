//! The domain model: orders, customers, shipments, platform events, messages and surveys.
//!
//! Every type here is platform-neutral. Adapters translate a platform's payloads into these
//! types; the flows decide what to do with them. Platform ids are strings (a Shopify `u64`
//! id is carried as its decimal text, losslessly), money is in minor units, never `f64`.

mod customer;
mod event;
mod messaging;
mod order;
mod shipment;
mod survey;

pub use customer::*;
pub use event::*;
pub use messaging::*;
pub use order::*;
pub use shipment::*;
pub use survey::*;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// Wraps a platform id.
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                Self(s)
            }
        }

        impl From<u64> for $name {
            fn from(n: u64) -> Self {
                Self(n.to_string())
            }
        }
    };
}

string_id!(
    /// A shop's id on its platform (for Shopify, the `*.myshopify.com` domain).
    ShopId
);
string_id!(
    /// An order's id on its platform (a Shopify order id is a 64-bit integer, kept as text).
    OrderId
);
string_id!(
    /// A customer's id on its platform.
    CustomerId
);
string_id!(
    /// A shipment's (fulfillment's) id on its platform.
    ShipmentId
);
string_id!(
    /// A product's id on its platform.
    ProductId
);
string_id!(
    /// A product variant's id on its platform.
    VariantId
);
