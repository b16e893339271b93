//! Which delegated scopes and application roles each route accepts.
//!
//! The table follows the "Permissions" section of each Microsoft Graph API
//! reference page (least privileged first). A token must carry at least one
//! of a route's delegated scopes (delegated token) or application roles
//! (app-only token); otherwise the route answers 403.

/// The permissions that allow a route.
#[derive(Debug, Clone, Copy)]
pub struct Permission {
    /// Delegated scopes (any one suffices).
    pub delegated: &'static [&'static str],
    /// Application roles (any one suffices).
    pub application: &'static [&'static str],
}

macro_rules! permission {
    ($name:ident, [$($d:literal),*], [$($a:literal),*]) => {
        #[allow(missing_docs)]
        pub const $name: Permission =
            Permission { delegated: &[$($d),*], application: &[$($a),*] };
    };
}

permission!(
    ME,
    [
        "User.Read",
        "User.ReadWrite",
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All"
    ],
    []
);
permission!(
    USERS_READ,
    [
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All"
    ],
    [
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All"
    ]
);
permission!(MAIL_READ, ["Mail.ReadBasic", "Mail.Read", "Mail.ReadWrite"], ["Mail.Read"]);
permission!(
    CALENDARS_READ,
    ["Calendars.Read", "Calendars.ReadWrite"],
    ["Calendars.Read"]
);
permission!(
    GROUPS_READ,
    [
        "GroupMember.Read.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All"
    ],
    [
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All"
    ]
);
permission!(
    GROUPS_CREATE,
    ["Group.ReadWrite.All", "Directory.ReadWrite.All"],
    ["Group.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"]
);
permission!(
    GROUPS_WRITE,
    ["Group.ReadWrite.All", "Directory.ReadWrite.All"],
    ["Group.ReadWrite.All", "Directory.ReadWrite.All"]
);
permission!(
    TEAM_CREATE,
    ["Team.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"],
    ["Team.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"]
);
permission!(
    TEAM_READ,
    [
        "Team.ReadBasic.All",
        "TeamSettings.Read.All",
        "TeamSettings.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All"
    ],
    [
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All"
    ]
);
permission!(
    CHANNELS_READ,
    [
        "Channel.ReadBasic.All",
        "ChannelSettings.Read.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All"
    ],
    [
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All"
    ]
);
permission!(
    CHANNELS_CREATE,
    ["Channel.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"],
    ["Channel.Create", "Group.ReadWrite.All", "Directory.ReadWrite.All"]
);
permission!(
    NOTEBOOKS_CREATE,
    ["Notes.ReadWrite.All", "Notes.Read.All"],
    ["Notes.ReadWrite.All", "Notes.Read.All"]
);
permission!(
    APPS_READ,
    [
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All"
    ],
    [
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Application.ReadWrite.OwnedBy",
        "Directory.Read.All"
    ]
);
permission!(
    APPS_WRITE,
    ["Application.ReadWrite.All", "Directory.ReadWrite.All"],
    ["Application.ReadWrite.All", "Application.ReadWrite.OwnedBy"]
);
permission!(
    GRANTS_READ,
    [
        "Directory.Read.All",
        "DelegatedPermissionGrant.ReadWrite.All",
        "Directory.ReadWrite.All"
    ],
    ["Directory.Read.All", "DelegatedPermissionGrant.ReadWrite.All"]
);
permission!(
    GRANTS_WRITE,
    ["DelegatedPermissionGrant.ReadWrite.All", "Directory.ReadWrite.All"],
    ["DelegatedPermissionGrant.ReadWrite.All"]
);

/// The route table: method, path (under `/v1.0` and `/beta`) and permission.
pub const TABLE: &[(&str, &str, Permission)] = &[
    ("GET", "/me", ME),
    ("GET", "/users", USERS_READ),
    ("GET", "/users/{id | userPrincipalName}", USERS_READ),
    ("GET", "/me/messages", MAIL_READ),
    ("GET", "/me/events", CALENDARS_READ),
    ("GET", "/groups", GROUPS_READ),
    ("POST", "/groups", GROUPS_CREATE),
    ("GET", "/groups/{id}", GROUPS_READ),
    ("PATCH", "/groups/{id}", GROUPS_WRITE),
    ("DELETE", "/groups/{id}", GROUPS_WRITE),
    ("PUT", "/groups/{id}/team", TEAM_CREATE),
    ("GET", "/groups/{id}/team", TEAM_READ),
    ("GET", "/groups/{id}/team/channels", CHANNELS_READ),
    ("GET", "/teams/{id}", TEAM_READ),
    ("GET", "/teams/{id}/channels", CHANNELS_READ),
    ("POST", "/teams/{id}/channels", CHANNELS_CREATE),
    ("GET", "/teams/{id}/channels/{id}", CHANNELS_READ),
    ("POST", "/groups/{id}/onenote/notebooks", NOTEBOOKS_CREATE),
    ("GET", "/groups/{id}/onenote/notebooks", NOTEBOOKS_CREATE),
    ("GET", "/applications", APPS_READ),
    ("POST", "/applications", APPS_WRITE),
    ("GET", "/applications/{id}", APPS_READ),
    ("PATCH", "/applications/{id}", APPS_WRITE),
    ("POST", "/applications/{id}/addPassword", APPS_WRITE),
    ("GET", "/servicePrincipals", APPS_READ),
    ("POST", "/servicePrincipals", APPS_WRITE),
    ("GET", "/servicePrincipals/{id}", APPS_READ),
    ("GET", "/oauth2PermissionGrants", GRANTS_READ),
    ("POST", "/oauth2PermissionGrants", GRANTS_WRITE),
];
