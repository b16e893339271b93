//! The device code grant: polling (`authorization_pending`, `slow_down`,
//! `expired_token`) and redemption once the user approved.

use serde_json::Value;

use crate::identity::{
    DEVICE_CODE_LIFETIME, DeviceState, age,
    device_code::approve_device,
    directory::RedirectKind,
    error::AadError,
    session::user_by_login,
    token::{Issue, TokenRequest, expired_grant},
};

pub(crate) fn redeem_device_code(request: &TokenRequest<'_>) -> Result<Value, AadError> {
    let (tenant, client) = (request.tenant, &request.client);
    let device_code = request
        .param("device_code")
        .or_else(|| request.param("code"))
        .ok_or_else(|| AadError::missing("device_code"))?;
    let public = client.fallback_public || (client.object_id.is_none());
    request.check_secret(!public)?;
    let interval = tenant.0.identity.device_interval;
    let state = {
        let mut devices =
            tenant.0.identity.devices.lock().unwrap_or_else(|e| e.into_inner());
        let grant = devices.get_mut(device_code).ok_or_else(|| {
            AadError::bad(
                "bad_verification_code",
                70000,
                "The device code is not valid for this client.",
            )
        })?;
        if grant.client_id != client.app_id {
            return Err(AadError::bad(
                "invalid_grant",
                70000,
                "The device code was issued to another client.",
            ));
        }
        if age(tenant, grant.issued_ms) > DEVICE_CODE_LIFETIME {
            return Err(AadError::bad(
                "expired_token",
                70019,
                "Verification code expired.",
            ));
        }
        let too_soon = grant
            .last_poll_ms
            .is_some_and(|t| age(tenant, t).as_secs_f64() < interval as f64 * 0.8);
        grant.last_poll_ms = Some(tenant.0.now.millis());
        if too_soon && matches!(grant.state, DeviceState::Pending) {
            return Err(AadError::bad(
                "slow_down",
                70023,
                format!("Polling too fast: wait {interval} seconds between requests."),
            ));
        }
        grant.state.clone()
    };
    let state = match state {
        DeviceState::Pending => match tenant.0.identity.unattended.clone() {
            Some(login) => {
                let user = user_by_login(tenant, &login).ok_or_else(|| {
                    AadError::bad(
                        "invalid_grant",
                        50034,
                        format!("The user account {login} does not exist."),
                    )
                })?;
                match approve_device(tenant, client, device_code, &user, true) {
                    Ok(()) => tenant
                        .0
                        .identity
                        .devices
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(device_code)
                        .map(|g| g.state.clone())
                        .unwrap_or(DeviceState::Redeemed),
                    Err(e) => DeviceState::Declined(e.short()),
                }
            }
            None => {
                return Err(AadError::bad(
                    "authorization_pending",
                    70016,
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                ));
            }
        },
        other => other,
    };
    match state {
        DeviceState::Pending => Err(AadError::bad(
            "authorization_pending",
            70016,
            "Authorization is pending. Continue polling.",
        )),
        DeviceState::Declined(reason) => Err(AadError::bad(
            "authorization_declined",
            70020,
            format!("The end user denied the authorization request. {reason}"),
        )),
        DeviceState::Redeemed => Err(AadError::bad(
            "invalid_grant",
            54005,
            "The device code was already redeemed.",
        )),
        DeviceState::Approved { user_id, graph_scopes } => {
            let (oidc, flavor) = {
                let mut devices =
                    tenant.0.identity.devices.lock().unwrap_or_else(|e| e.into_inner());
                let grant = devices.get_mut(device_code).ok_or_else(expired_grant)?;
                grant.state = DeviceState::Redeemed;
                (grant.oidc.clone(), grant.flavor.clone())
            };
            let issue = Issue::new(graph_scopes, oidc, flavor, RedirectKind::Public);
            request.answer(&user_id, issue)
        }
    }
}
