//! The client credentials grant: an app-only token carrying the application
//! permissions an admin consented to.

use serde_json::Value;

use crate::identity::{
    consent::directory_strings,
    directory::{is_graph, service_principal, unknown_resource},
    error::AadError,
    token::{TokenRequest, bearer_body, unavailable},
};
use crate::{ACCESS_TOKEN_LIFETIME, GRAPH_RESOURCE, TokenSpec, store::Col};

pub(crate) fn client_credentials(request: &TokenRequest<'_>) -> Result<Value, AadError> {
    let (tenant, client, v1) = (request.tenant, &request.client, request.v1);
    request.check_secret(true)?;
    let resource = if v1 {
        request.param("resource").ok_or_else(|| AadError::missing("resource"))?.to_owned()
    } else {
        let scope = request.param("scope").ok_or_else(|| AadError::missing("scope"))?;
        let Some(resource) = scope.strip_suffix("/.default") else {
            return Err(AadError::bad(
                "invalid_scope",
                1002012,
                format!(
                    "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
                ),
            ));
        };
        resource.to_owned()
    };
    if !is_graph(&resource) {
        return Err(unknown_resource(&resource));
    }
    let sp = service_principal(&tenant.0.store, &client.app_id)
        .and_then(|id| tenant.0.store.get(Col::ServicePrincipals, &id));
    let consented: Vec<String> =
        sp.map(|sp| directory_strings(&sp["_grantedRoles"])).unwrap_or_default();
    let roles: Vec<String> =
        client.static_roles.iter().filter(|r| consented.contains(r)).cloned().collect();
    let access = tenant
        .issue_token_with(&TokenSpec {
            user: None,
            client_id: client.app_id.clone(),
            scopes: Vec::new(),
            roles,
            lifetime: ACCESS_TOKEN_LIFETIME,
            expired: None,
            audience: GRAPH_RESOURCE.to_owned(),
        })
        .map_err(unavailable)?;
    Ok(bearer_body(access, tenant.now_secs(), v1.then_some(GRAPH_RESOURCE)))
}
