//! An emulator on 127.0.0.1:0 whose replication delay reads the same
//! virtual clock as the engine, and an engine wired to it.

use std::{path::PathBuf, sync::Arc, time::SystemTime};

use graphlab_auth::{Secret, StaticToken};
use graphlab_connector::{ExportOptions, Profile};
use graphlab_flow::{
    Engine, RunOptions, Workflow,
    connector::{Connector, Connectors},
    engine::VirtualClock,
    run::Run,
};
use graphlab_tenant::{ChaosConfig, Now, RunningTenant, Tenant, TenantConfig, seed};
use time::OffsetDateTime;

pub struct Lab {
    pub tenant: Tenant,
    pub running: RunningTenant,
    pub clock: VirtualClock,
}

impl Lab {
    pub async fn start(chaos: Option<&str>) -> Lab {
        let clock = VirtualClock::starting_at(OffsetDateTime::now_utc());
        let shared = clock.clone();
        let mut config = TenantConfig::in_memory().clock(Now::from_fn(move || {
            SystemTime::from(graphlab_flow::engine::Clock::now(&shared))
        }));
        if let Some(chaos) = chaos {
            config = config.chaos(ChaosConfig::from_json(chaos).unwrap());
        }
        let tenant = Tenant::open(&config.reuse_key()).unwrap();
        let running =
            graphlab_tenant::serve(tenant.clone(), "127.0.0.1:0".parse().unwrap())
                .await
                .unwrap();
        Lab { tenant, running, clock }
    }

    /// The engine as `graphlab flow run` builds it, with the lab's
    /// connector package (`profile`) and the admin's delegated token.
    pub fn engine(&self, profile: Profile) -> Engine {
        let token = self
            .tenant
            .issue_token(seed::ADMIN_UPN, &["User.Read", "Group.ReadWrite.All"])
            .unwrap();
        let package = graphlab_connector::export(&ExportOptions {
            profile,
            ..ExportOptions::default()
        });
        let mut connectors = Connectors::new();
        connectors.add(Connector::from_swagger(&package.api_definition, None).unwrap());
        let mut engine = Engine::new(self.running.base_url());
        engine.clock = Arc::new(self.clock.clone());
        engine.token = Some(Arc::new(StaticToken(Secret::new(token))));
        engine.connectors = connectors;
        engine
    }

    pub fn groups_named(&self, name: &str) -> usize {
        self.tenant.objects("groups").iter().filter(|g| g["displayName"] == name).count()
    }
}

pub fn flow_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../lab-steps/flows").join(name)
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn load(path: &std::path::Path) -> Workflow {
    let text = std::fs::read_to_string(path).unwrap();
    graphlab_flow::load(&text, &path.display().to_string()).unwrap()
}

pub async fn run_named(engine: &Engine, workflow: &Workflow, name: &str) -> Run {
    let options = RunOptions {
        inputs: vec![("Name".to_owned(), name.to_owned())],
        ..RunOptions::default()
    };
    engine.run(workflow, options).await.unwrap()
}

/// `actions.NAME.outputs.body.responses`, sorted by id.
pub fn responses(run: &Run, action: &str) -> Vec<serde_json::Value> {
    let mut items = run.actions[action]
        .outputs
        .as_ref()
        .and_then(|o| o["body"]["responses"].as_array().cloned())
        .unwrap_or_default();
    items.sort_by_key(|r| r["id"].to_string());
    items
}

pub fn statuses(run: &Run) -> Vec<(String, String)> {
    run.actions.iter().map(|(k, v)| (k.clone(), v.status.as_str().to_owned())).collect()
}
