//! Microsoft's well-known values, the same in every tenant: the public
//! identity platform, Microsoft Graph, and the first-party apps the lab signs
//! in with. One home for them; the emulator seeds the same ids.

/// The public identity platform (Entra ID's global cloud).
pub const PUBLIC_AUTHORITY: &str = "https://login.microsoftonline.com";

/// Microsoft Graph in the global cloud.
pub const GRAPH_URL: &str = "https://graph.microsoft.com";

/// "Microsoft Graph Command Line Tools": a public client present in every
/// tenant, which `graphlab login` and the lab's admin sign in with.
pub const GRAPH_CLI_CLIENT_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";

/// Microsoft Graph's application id (the resource of its permissions).
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
