//! The seeded tenant: `contoso.onmicrosoft.com`, its admin, five users with mail
//! and events, Microsoft Graph's service principal and the public client
//! "Microsoft Graph Command Line Tools". Written once, on first start.

use serde_json::{Value, json};

use crate::store::{Col, WriteTx};

/// The seeded tenant's id (fixed, so docs and tests can name it).
pub const TENANT_ID: &str = "7d3e1f0a-5b2c-4e8d-9a61-c0ffee5eed01";
/// The seeded tenant's initial domain.
pub const TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";
/// The tenant's display name.
pub const TENANT_NAME: &str = "Contoso (graphlab emulator)";
/// The admin's user principal name.
pub const ADMIN_UPN: &str = "admin@contoso.onmicrosoft.com";
/// The admin's object id.
pub const ADMIN_ID: &str = "a0000000-0000-4000-8000-000000000001";
/// "Microsoft Graph Command Line Tools", a well-known public client.
pub const GRAPH_CLI_APP_ID: &str = "14d82eec-204b-4c2f-b7e8-296a70dab67e";
/// The Global Administrator role template id (carried in `wids`).
pub const GLOBAL_ADMIN_ROLE: &str = "62e90394-69f5-4237-9190-012177145e10";
/// Object id of Microsoft Graph's service principal in the tenant.
pub const GRAPH_SP_ID: &str = "5e000000-0000-4000-8000-00000000a001";
/// Object id of the Graph Command Line Tools service principal.
pub const GRAPH_CLI_SP_ID: &str = "5e000000-0000-4000-8000-00000000a002";
/// Object id of the service principal of "Graph Lab Studio", the SPA
/// `graphlab studio` signs in with (its client id is
/// [`graphlab_lab::STUDIO_CLIENT_ID`]).
pub const STUDIO_SP_ID: &str = "5e000000-0000-4000-8000-00000000a003";
/// The studio's `spa` redirect URIs (loopback: any port matches).
pub const STUDIO_REDIRECT_URIS: &[&str] = &["http://127.0.0.1", "http://localhost"];
/// The delegated permissions the admin consented for the studio.
pub const STUDIO_SCOPES: &str = "openid profile offline_access User.Read User.ReadBasic.All \
     Group.ReadWrite.All Application.Read.All DelegatedPermissionGrant.ReadWrite.All";
/// Object id of the seeded Microsoft 365 group, like the sample groups of a
/// developer-program tenant (the lab's OneNote request needs a group).
pub const SAMPLE_GROUP_ID: &str = "60000000-0000-4000-8000-000000000001";

/// The delegated scopes Microsoft Graph publishes in the emulator
/// (`oauth2PermissionScopes`), with whether each needs admin consent.
pub const GRAPH_SCOPES: &[(&str, bool)] = &[
    ("User.Read", false),
    ("User.ReadWrite", false),
    ("User.ReadBasic.All", false),
    ("User.Read.All", true),
    ("User.ReadWrite.All", true),
    ("Mail.ReadBasic", false),
    ("Mail.Read", false),
    ("Mail.ReadWrite", false),
    ("Calendars.Read", false),
    ("Calendars.ReadWrite", false),
    ("Group.Read.All", true),
    ("Group.ReadWrite.All", true),
    ("GroupMember.Read.All", true),
    ("Directory.Read.All", true),
    ("Directory.ReadWrite.All", true),
    ("Application.Read.All", true),
    ("Application.ReadWrite.All", true),
    ("DelegatedPermissionGrant.ReadWrite.All", true),
    ("Team.Create", false),
    ("Team.ReadBasic.All", false),
    ("TeamSettings.Read.All", false),
    ("TeamSettings.ReadWrite.All", false),
    ("Channel.Create", false),
    ("Channel.ReadBasic.All", false),
    ("ChannelSettings.Read.All", false),
    ("Notes.Read.All", false),
    ("Notes.ReadWrite.All", false),
    ("offline_access", false),
    ("openid", false),
    ("profile", false),
    ("email", false),
];

struct SeedUser {
    id: &'static str,
    nick: &'static str,
    given: &'static str,
    surname: &'static str,
    job: &'static str,
    department: &'static str,
    office: &'static str,
    city: &'static str,
    admin: bool,
}

const USERS: &[SeedUser] = &[
    SeedUser {
        id: ADMIN_ID,
        nick: "admin",
        given: "MOD",
        surname: "Administrator",
        job: "IT Administrator",
        department: "IT",
        office: "HQ 1/1001",
        city: "Redmond",
        admin: true,
    },
    SeedUser {
        id: "a0000000-0000-4000-8000-000000000002",
        nick: "AdeleV",
        given: "Adele",
        surname: "Vance",
        job: "Retail Manager",
        department: "Retail",
        office: "18/2111",
        city: "Bellevue",
        admin: false,
    },
    SeedUser {
        id: "a0000000-0000-4000-8000-000000000003",
        nick: "AlexW",
        given: "Alex",
        surname: "Wilber",
        job: "Marketing Assistant",
        department: "Marketing",
        office: "131/1104",
        city: "San Diego",
        admin: false,
    },
    SeedUser {
        id: "a0000000-0000-4000-8000-000000000004",
        nick: "MeganB",
        given: "Megan",
        surname: "Bowen",
        job: "Marketing Manager",
        department: "Marketing",
        office: "12/1110",
        city: "Pittsburgh",
        admin: false,
    },
    SeedUser {
        id: "a0000000-0000-4000-8000-000000000005",
        nick: "LeeG",
        given: "Lee",
        surname: "Gu",
        job: "Director",
        department: "Manufacturing",
        office: "23/3101",
        city: "Birmingham",
        admin: false,
    },
    SeedUser {
        id: "a0000000-0000-4000-8000-000000000006",
        nick: "NestorW",
        given: "Nestor",
        surname: "Wilke",
        job: "Director",
        department: "Operations",
        office: "36/2121",
        city: "Seattle",
        admin: false,
    },
];

/// Writes the seed into an empty store.
pub fn seed(tx: &mut WriteTx<'_>) {
    for (n, u) in USERS.iter().enumerate() {
        let upn = format!("{}@{TENANT_DOMAIN}", u.nick.to_lowercase());
        let display = if u.admin {
            "MOD Administrator".to_owned()
        } else {
            format!("{} {}", u.given, u.surname)
        };
        let user = json!({
            "id": u.id,
            "businessPhones": [format!("+1 425 555 01{n:02}")],
            "displayName": display,
            "givenName": u.given,
            "jobTitle": u.job,
            "mail": upn,
            "mobilePhone": null,
            "officeLocation": u.office,
            "preferredLanguage": "en-US",
            "surname": u.surname,
            "userPrincipalName": upn,
            "accountEnabled": true,
            "ageGroup": null,
            "city": u.city,
            "companyName": "Contoso",
            "country": "United States",
            "createdDateTime": "2024-01-15T09:00:00Z",
            "creationType": null,
            "department": u.department,
            "employeeId": format!("E{:04}", 1000 + n),
            "employeeType": "Employee",
            "imAddresses": [upn],
            "mailNickname": u.nick,
            "otherMails": [],
            "postalCode": "98052",
            "proxyAddresses": [format!("SMTP:{upn}")],
            "showInAddressList": true,
            "state": "WA",
            "streetAddress": "1 Microsoft Way",
            "usageLocation": "US",
            "userType": "Member",
            "identities": [{
                "signInType": "userPrincipalName",
                "issuer": TENANT_DOMAIN,
                "issuerAssignedId": upn,
            }],
            "_roles": if u.admin { vec![GLOBAL_ADMIN_ROLE] } else { vec![] },
        });
        tx.put(Col::Users, u.id, user);
        seed_mailbox(tx, n, u.id, &display);
    }

    tx.put(
        Col::Groups,
        SAMPLE_GROUP_ID,
        json!({
            "id": SAMPLE_GROUP_ID,
            "createdDateTime": "2024-01-15T09:00:00Z",
            "renewedDateTime": "2024-01-15T09:00:00Z",
            "deletedDateTime": null,
            "description": "Everything about the Mark 8 project.",
            "displayName": "Mark 8 Project Team",
            "groupTypes": ["Unified"],
            "mail": format!("Mark8ProjectTeam@{TENANT_DOMAIN}"),
            "mailEnabled": true,
            "mailNickname": "Mark8ProjectTeam",
            "proxyAddresses": [format!("SMTP:Mark8ProjectTeam@{TENANT_DOMAIN}")],
            "resourceProvisioningOptions": [],
            "securityEnabled": false,
            "securityIdentifier": "S-1-12-1-1610612736",
            "visibility": "Public",
        }),
    );

    let scopes: Vec<Value> = GRAPH_SCOPES
        .iter()
        .enumerate()
        .map(|(i, (value, admin))| {
            json!({
                "id": format!("e1000000-0000-4000-8000-{:012}", i + 1),
                "value": value,
                "type": if *admin { "Admin" } else { "User" },
                "isEnabled": true,
                "adminConsentDisplayName": value,
                "adminConsentDescription": format!("Allows the app the {value} permission."),
            })
        })
        .collect();
    let roles: Vec<Value> = [
        "User.Read.All",
        "User.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "Group.Create",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Application.Read.All",
        "Application.ReadWrite.All",
        "Application.ReadWrite.OwnedBy",
        "Team.Create",
        "Channel.Create",
        "Mail.Read",
        "Calendars.Read",
        "Notes.Read.All",
        "Notes.ReadWrite.All",
    ]
    .iter()
    .enumerate()
    .map(|(i, value)| {
        json!({
            "id": format!("e2000000-0000-4000-8000-{:012}", i + 1),
            "value": value,
            "displayName": value,
            "allowedMemberTypes": ["Application"],
            "isEnabled": true,
        })
    })
    .collect();
    tx.put(
        Col::ServicePrincipals,
        GRAPH_SP_ID,
        json!({
            "id": GRAPH_SP_ID,
            "appId": crate::token::GRAPH_APP_ID,
            "appDisplayName": "Microsoft Graph",
            "displayName": "Microsoft Graph",
            "servicePrincipalType": "Application",
            "accountEnabled": true,
            "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
            "servicePrincipalNames": [crate::token::GRAPH_RESOURCE, crate::token::GRAPH_APP_ID],
            "oauth2PermissionScopes": scopes,
            "appRoles": roles,
            "replyUrls": [],
        }),
    );
    tx.put(
        Col::ServicePrincipals,
        GRAPH_CLI_SP_ID,
        json!({
            "id": GRAPH_CLI_SP_ID,
            "appId": GRAPH_CLI_APP_ID,
            "appDisplayName": "Microsoft Graph Command Line Tools",
            "displayName": "Microsoft Graph Command Line Tools",
            "servicePrincipalType": "Application",
            "accountEnabled": true,
            "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
            "servicePrincipalNames": [GRAPH_CLI_APP_ID],
            "oauth2PermissionScopes": [],
            "appRoles": [],
            "replyUrls": ["http://localhost", "https://login.microsoftonline.com/common/oauth2/nativeclient"],
            "_publicClient": true,
        }),
    );
    // The admin consented the command-line tools for the whole organisation,
    // as a tenant admin who has used Graph PowerShell has.
    tx.put(
        Col::Grants,
        "grant-cli-allprincipals",
        json!({
            "id": "grant-cli-allprincipals",
            "clientId": GRAPH_CLI_SP_ID,
            "consentType": "AllPrincipals",
            "principalId": null,
            "resourceId": GRAPH_SP_ID,
            "scope": "openid profile offline_access User.Read Application.ReadWrite.All \
                      DelegatedPermissionGrant.ReadWrite.All Group.ReadWrite.All",
        }),
    );
    // Graph Lab Studio: a single-page application registered in the lab's
    // home (like Graph Explorer, its application object is not in this
    // tenant), consented by the admin for the organisation.
    tx.put(
        Col::ServicePrincipals,
        STUDIO_SP_ID,
        json!({
            "id": STUDIO_SP_ID,
            "appId": graphlab_lab::STUDIO_CLIENT_ID,
            "appDisplayName": "Graph Lab Studio",
            "displayName": "Graph Lab Studio",
            "servicePrincipalType": "Application",
            "accountEnabled": true,
            "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
            "servicePrincipalNames": [graphlab_lab::STUDIO_CLIENT_ID],
            "oauth2PermissionScopes": [],
            "appRoles": [],
            "replyUrls": STUDIO_REDIRECT_URIS,
            "_spaRedirectUris": STUDIO_REDIRECT_URIS,
            "_publicClient": true,
        }),
    );
    tx.put(
        Col::Grants,
        "grant-studio-allprincipals",
        json!({
            "id": "grant-studio-allprincipals",
            "clientId": STUDIO_SP_ID,
            "consentType": "AllPrincipals",
            "principalId": null,
            "resourceId": GRAPH_SP_ID,
            "scope": STUDIO_SCOPES,
        }),
    );
}

const SUBJECTS: &[(&str, &str, &str)] = &[
    (
        "Quarterly business review",
        "high",
        "Please review the attached deck before Friday.",
    ),
    (
        "Lunch on Thursday?",
        "normal",
        "A few of us are heading to the new place downtown.",
    ),
    (
        "Action required: expense report",
        "high",
        "Your expense report is missing receipts.",
    ),
    ("Team offsite agenda", "normal", "Here is the draft agenda for the offsite."),
    (
        "Security training reminder",
        "low",
        "Complete the annual security training by the 30th.",
    ),
    (
        "Contract renewal — urgent",
        "high",
        "The vendor needs our signature by end of day.",
    ),
];

fn seed_mailbox(tx: &mut WriteTx<'_>, user_index: usize, owner: &str, owner_name: &str) {
    for (i, (subject, importance, preview)) in SUBJECTS.iter().enumerate() {
        let id = format!("m{user_index:02}{i:02}-0000-4000-8000-{owner}")
            .chars()
            .take(36)
            .collect::<String>();
        let sender = &USERS[(user_index + i + 1) % USERS.len()];
        let sender_address = format!("{}@{TENANT_DOMAIN}", sender.nick.to_lowercase());
        tx.put(
            Col::Messages,
            &id,
            json!({
                "id": id,
                "subject": subject,
                "importance": importance,
                "bodyPreview": preview,
                "isRead": i % 2 == 0,
                "receivedDateTime": format!("2026-11-{:02}T0{}:15:00Z", 20 - i, 8 + i % 2),
                "from": {"emailAddress": {"name": format!("{} {}", sender.given, sender.surname), "address": sender_address}},
                "toRecipients": [{"emailAddress": {"name": owner_name, "address": ""}}],
                "_ownerId": owner,
            }),
        );
    }
    for (i, (subject, hour)) in
        [("Weekly sync", 9), ("1:1", 11), ("Project review", 14)].iter().enumerate()
    {
        let id = format!("e{user_index:02}{i:02}-0000-4000-8000-{owner}")
            .chars()
            .take(36)
            .collect::<String>();
        tx.put(
            Col::Events,
            &id,
            json!({
                "id": id,
                "subject": subject,
                "start": {"dateTime": format!("2026-12-0{}T{hour:02}:00:00.0000000", i + 1), "timeZone": "UTC"},
                "end": {"dateTime": format!("2026-12-0{}T{:02}:00:00.0000000", i + 1, hour + 1), "timeZone": "UTC"},
                "location": {"displayName": format!("Room {}", 100 + i)},
                "organizer": {"emailAddress": {"name": owner_name}},
                "isOnlineMeeting": i == 0,
                "_ownerId": owner,
            }),
        );
    }
}
