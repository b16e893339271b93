//! The exported packages: snapshots of both profiles, the lab profile against
//! the facts of LAB.md, the typed profile's options, the icon, and writing.

use graphlab_connector::{
    BRAND_COLOR, ExportOptions, ICON_SIZE, Profile, REDIRECT_URL, export,
    redirect_url_for,
};
use serde_json::{Value, json};

fn lab() -> ExportOptions {
    ExportOptions { profile: Profile::Lab, ..Default::default() }
}

#[test]
fn snapshot_typed_package() {
    let package = export(&ExportOptions::default());
    insta::assert_json_snapshot!("typed_apiDefinition", package.api_definition);
    insta::assert_json_snapshot!("typed_apiProperties", package.api_properties);
    insta::assert_json_snapshot!("typed_settings", package.settings);
}

#[test]
fn snapshot_lab_package() {
    let package = export(&lab());
    insta::assert_json_snapshot!("lab_apiDefinition", package.api_definition);
    insta::assert_json_snapshot!("lab_apiProperties", package.api_properties);
    insta::assert_json_snapshot!("lab_settings", package.settings);
}

/// `MSGraph-Delegate-Batch.swagger.json` as LAB.md describes it, written out
/// here by hand so the exporter is checked against the lab, not itself.
#[test]
fn lab_profile_is_the_lab_file() {
    let expected = json!({
        "swagger": "2.0",
        "info": { "title": "MS Graph Batch Connector", "description": "", "version": "1.0" },
        "host": "graph.microsoft.com",
        "basePath": "/",
        "schemes": ["https"],
        "consumes": [],
        "produces": [],
        "paths": { "/v1.0/$batch": { "post": {
            "responses": { "default": { "description": "default", "schema": {} } },
            "summary": "Batch",
            "description": "Execute Batch with Delegate Permission",
            "operationId": "Batch",
            "x-ms-visibility": "important",
            "parameters": [{
                "name": "body", "in": "body", "required": false,
                "schema": { "type": "object", "properties": {} }
            }]
        } } },
        "definitions": {},
        "parameters": {},
        "responses": {},
        "securityDefinitions": { "oauth2_auth": {
            "type": "oauth2",
            "flow": "accessCode",
            "authorizationUrl": "https://login.windows.net/common/oauth2/authorize",
            "tokenUrl": "https://login.windows.net/common/oauth2/authorize",
            "scopes": {}
        } },
        "security": [{ "oauth2_auth": [] }],
        "tags": []
    });
    assert_eq!(export(&lab()).api_definition, expected);
}

#[test]
fn api_properties_carry_the_lab_security_settings_and_no_secret() {
    for profile in [Profile::Lab, Profile::Typed] {
        let props =
            export(&ExportOptions { profile, ..Default::default() }).api_properties;
        let token = &props["properties"]["connectionParameters"]["token"];
        assert_eq!(token["type"], "oauthSetting");
        let oauth = &token["oAuthSettings"];
        assert_eq!(oauth["identityProvider"], "aad");
        assert_eq!(oauth["clientId"], "00000000-0000-0000-0000-000000000000");
        assert_eq!(oauth["scopes"], json!([]));
        assert!(oauth["redirectMode"].is_string());
        let custom = &oauth["customParameters"];
        assert_eq!(custom["loginUri"]["value"], "https://login.windows.net");
        assert_eq!(custom["tenantId"]["value"], "common");
        assert_eq!(custom["resourceUri"]["value"], "https://graph.microsoft.com");
        assert_eq!(props["properties"]["iconBrandColor"], BRAND_COLOR);
        let text = props.to_string().to_lowercase();
        assert!(!text.contains("secret"), "{text}");
    }
}

#[test]
fn typed_profile_follows_title_login_url_tenant_and_scopes() {
    let options = ExportOptions {
        title: Some("Graph Batch Lab".into()),
        client_id: "11111111-2222-3333-4444-555555555555".into(),
        tenant: "contoso.onmicrosoft.com".into(),
        login_url: "https://login.microsoftonline.com/".into(),
        scopes: vec!["Group.ReadWrite.All".into()],
        ..Default::default()
    };
    let package = export(&options);
    let def = &package.api_definition;
    assert_eq!(def["info"]["title"], "Graph Batch Lab");
    let scheme = &def["securityDefinitions"]["oauth2_auth"];
    assert_eq!(scheme["flow"], "accessCode");
    assert_eq!(
        scheme["authorizationUrl"],
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/authorize"
    );
    assert_eq!(
        scheme["tokenUrl"],
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token"
    );
    assert!(scheme["scopes"]["Group.ReadWrite.All"].is_string());
    assert_eq!(def["security"], json!([{ "oauth2_auth": ["Group.ReadWrite.All"] }]));
    let oauth = &package.api_properties["properties"]["connectionParameters"]["token"]["oAuthSettings"];
    assert_eq!(oauth["clientId"], "11111111-2222-3333-4444-555555555555");
    assert_eq!(oauth["scopes"], json!(["Group.ReadWrite.All"]));
    assert_eq!(oauth["customParameters"]["tenantId"]["value"], "contoso.onmicrosoft.com");
}

#[test]
fn typed_operations_have_full_request_and_response_schemas() {
    let def = export(&ExportOptions::default()).api_definition;
    assert_eq!(def["info"]["title"], "MS Graph Batch");
    for (path, id) in [("/v1.0/$batch", "Batch"), ("/beta/$batch", "BatchBeta")] {
        let op = &def["paths"][path]["post"];
        assert_eq!(op["operationId"], id);
        assert_eq!(op["parameters"][0]["schema"]["$ref"], "#/definitions/BatchRequest");
        assert_eq!(
            op["responses"]["200"]["schema"]["$ref"],
            "#/definitions/BatchResponse"
        );
        assert!(op["responses"]["default"].get("schema").is_none());
    }
    let keys = |name: &str| -> Vec<String> {
        let props = def["definitions"][name]["properties"].as_object().unwrap();
        for (key, field) in props {
            assert!(
                field["x-ms-summary"].is_string(),
                "{name}.{key} has no x-ms-summary"
            );
            assert!(field["description"].is_string(), "{name}.{key} has no description");
        }
        props.keys().cloned().collect()
    };
    let mut request = keys("BatchRequestItem");
    request.sort();
    assert_eq!(request, ["body", "dependsOn", "headers", "id", "method", "url"]);
    let mut response = keys("BatchResponseItem");
    response.sort();
    assert_eq!(response, ["body", "headers", "id", "status"]);
    let methods = &def["definitions"]["BatchRequestItem"]["properties"]["method"]["enum"];
    assert_eq!(methods, &json!(["GET", "POST", "PUT", "PATCH", "DELETE"]));
}

/// Reads the PNG with an independent parser: chunk CRCs (computed here
/// bit by bit), IHDR, and the pixels inflated with miniz_oxide.
#[test]
fn icon_is_a_valid_square_png_of_the_brand_colour() {
    let png = export(&ExportOptions::default()).icon;
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    let crc32 = |bytes: &[u8]| {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    };
    let mut at = 8;
    let mut kinds = Vec::new();
    let (mut width, mut height, mut idat) = (0, 0, Vec::new());
    while at < png.len() {
        let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
        let kind = &png[at + 4..at + 8];
        let data = &png[at + 8..at + 8 + len];
        let crc =
            u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
        assert_eq!(crc, crc32(&png[at + 4..at + 8 + len]), "CRC of {kind:?}");
        match kind {
            b"IHDR" => {
                width = u32::from_be_bytes(data[0..4].try_into().unwrap());
                height = u32::from_be_bytes(data[4..8].try_into().unwrap());
                assert_eq!(&data[8..], &[8, 2, 0, 0, 0], "8-bit RGB, not interlaced");
            }
            b"IDAT" => idat.extend_from_slice(data),
            _ => {}
        }
        kinds.push(String::from_utf8(kind.to_vec()).unwrap());
        at += 12 + len;
    }
    assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
    assert_eq!((width, height), (ICON_SIZE, ICON_SIZE));
    let raw = miniz_oxide::inflate::decompress_to_vec_zlib(&idat).unwrap();
    let stride = 1 + 3 * width as usize;
    assert_eq!(raw.len(), stride * height as usize);
    let brand = [0x00, 0x78, 0xd4];
    let pixel = |x: usize, y: usize| {
        let row = &raw[y * stride..(y + 1) * stride];
        assert_eq!(row[0], 0, "filter None");
        [row[1 + 3 * x], row[2 + 3 * x], row[3 + 3 * x]]
    };
    let last = width as usize - 1;
    for (x, y) in [(0, 0), (last, 0), (0, last), (last, last), (80, 1)] {
        assert_eq!(pixel(x, y), brand, "({x}, {y})");
    }
    let total = (width * height) as usize;
    let branded = (0..total)
        .filter(|i| pixel(i % width as usize, i / width as usize) == brand)
        .count();
    assert!(branded * 2 > total, "the background is the brand colour");
    assert!(branded < total, "and there is a glyph on it");
}

#[test]
fn write_to_creates_the_directory_and_replaces_files_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("a").join("b");
    let package = export(&ExportOptions::default());
    let written = package.write_to(&out).unwrap();
    let names: Vec<_> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        ["apiDefinition.swagger.json", "apiProperties.json", "settings.json", "icon.png"]
    );
    std::fs::write(out.join("apiProperties.json"), "stale").unwrap();
    package.write_to(&out).unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    entries.sort();
    assert_eq!(
        entries,
        ["apiDefinition.swagger.json", "apiProperties.json", "icon.png", "settings.json"]
    );
    let props: Value =
        serde_json::from_slice(&std::fs::read(out.join("apiProperties.json")).unwrap())
            .unwrap();
    assert_eq!(props, package.api_properties);
    assert_eq!(std::fs::read(out.join("icon.png")).unwrap(), package.icon);
}

#[test]
fn write_to_a_path_under_a_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let err = export(&ExportOptions::default()).write_to(&file.join("pkg")).unwrap_err();
    assert!(err.to_string().contains("file"), "{err}");
}

#[test]
fn redirect_urls() {
    assert_eq!(REDIRECT_URL, "https://global.consent.azure-apim.net/redirect");
    assert_eq!(
        redirect_url_for("ms-20graph-20batch-5f0123456789abcdef"),
        "https://global.consent.azure-apim.net/redirect/ms-20graph-20batch-5f0123456789abcdef"
    );
}
