//! Routes: how each enabled controller is reached, from its enabled `MTP.{i}` rows in `Order`,
//! then through the agent's WebSocket servers. WebSocket controller MTPs with a Host also add
//! their client links to the plan here.

use super::build::Ctx;
use super::read::{AgentMtp, Ids, reference};
use super::{LinkPlan, Route};
use usp_areas::local_agent::ControllerMtpConfig;
use usp_datamodel::DataModel;

/// Fills `plan.routes` (and the WebSocket client links) for every enabled controller.
pub(super) fn controllers(
    dm: &mut DataModel,
    ids: &Ids,
    mtps: &[AgentMtp],
    ctx: &Ctx,
    plan: &mut LinkPlan,
) {
    for c in ids.controller.controllers(dm) {
        if !c.enable {
            continue;
        }
        let eid = c.endpoint_id;
        if eid.is_empty() {
            plan.problem(&c.path, "enabled without an EndpointID");
            continue;
        }
        let mut cmtps: Vec<ControllerMtpConfig> = c.mtps.into_iter().filter(|m| m.enable).collect();
        // Stable: equal Orders keep instance order.
        cmtps.sort_by_key(|m| m.order);
        let mut routes = Vec::new();
        for m in &cmtps {
            match route(dm, mtps, ctx, plan, &eid, m) {
                Ok(found) => routes.extend(found),
                Err(why) => plan.problem(&m.path, why),
            }
        }
        for server in server_keys(plan) {
            if !routes.iter().any(|r: &Route| r.link == server) {
                routes.push(plain(server, eid.clone(), None));
            }
        }
        if routes.is_empty() {
            plan.problem(&c.path, format!("no usable MTP to reach {eid}"));
        } else {
            plan.routes.insert(eid, routes);
        }
    }
}

/// The keys of the WebSocket server links planned so far.
fn server_keys(plan: &LinkPlan) -> Vec<String> {
    plan.links.iter().filter(|l| is_server(l)).map(|l| l.key.clone()).collect()
}

fn is_server(l: &super::LinkSpec) -> bool {
    match &l.kind {
        #[cfg(feature = "websocket")]
        super::LinkKind::WsServer(_) => true,
        #[allow(unreachable_patterns)]
        _ => false,
    }
}

fn plain(link: String, dest: String, mtp: Option<String>) -> Route {
    Route { link, dest, retain_response: false, retain_notify: false, mtp }
}

/// The routes one enabled controller MTP gives (none, one, or one per WebSocket server).
fn route(
    dm: &mut DataModel,
    mtps: &[AgentMtp],
    ctx: &Ctx,
    plan: &mut LinkPlan,
    eid: &str,
    m: &ControllerMtpConfig,
) -> Result<Vec<Route>, String> {
    let from = Some(m.path.clone());
    match m.protocol.as_str() {
        "MQTT" => {
            let sub = &m.mqtt;
            // AgentMTPReference (TR-181 2.16) wins over the deprecated Reference.
            let by_agent_mtp = sub.agent_mtp_reference.as_str();
            let reference_text =
                if by_agent_mtp.trim().is_empty() { sub.reference.as_str() } else { by_agent_mtp };
            let link = link_for(dm, mtps, plan, "MQTT", reference_text)?;
            if sub.topic.is_empty() {
                return Err("MQTT.Topic is empty".into());
            }
            Ok(vec![Route {
                link,
                dest: sub.topic.clone(),
                retain_response: sub.publish_retain_response,
                retain_notify: sub.publish_retain_notify,
                mtp: from,
            }])
        }
        "STOMP" => {
            let link = link_for(dm, mtps, plan, "STOMP", &m.stomp.reference)?;
            if m.stomp.destination.is_empty() {
                return Err("STOMP.Destination is empty".into());
            }
            Ok(vec![plain(link, m.stomp.destination.clone(), from)])
        }
        "WebSocket" if m.websocket.host.is_empty() => {
            // The controller connects to us: reach it through the servers.
            let servers = server_keys(plan);
            if servers.is_empty() {
                return Err("WebSocket.Host is empty and no WebSocket server is enabled".into());
            }
            Ok(servers.into_iter().map(|s| plain(s, eid.to_owned(), from.clone())).collect())
        }
        "WebSocket" => ws_client(plan, ctx, eid, m),
        other => Err(format!("Protocol '{other}' is not supported")),
    }
}

#[cfg(feature = "websocket")]
fn ws_client(
    plan: &mut LinkPlan,
    ctx: &Ctx,
    eid: &str,
    m: &ControllerMtpConfig,
) -> Result<Vec<Route>, String> {
    let config = super::build::ws_client_config(&m.websocket, eid, ctx)?;
    plan.links.push(super::LinkSpec {
        key: m.path.clone(),
        agent_mtp: None,
        kind: super::LinkKind::WsClient { controller: eid.to_owned(), config },
    });
    Ok(vec![plain(m.path.clone(), eid.to_owned(), Some(m.path.clone()))])
}

#[cfg(not(feature = "websocket"))]
fn ws_client(
    _: &mut LinkPlan,
    _: &Ctx,
    _: &str,
    _: &ControllerMtpConfig,
) -> Result<Vec<Route>, String> {
    Err("this agent is built without WebSocket".into())
}

/// The key of the planned `protocol` link a controller MTP goes through. `reference` names
/// either an agent MTP (`AgentMTPReference`) or the client / connection itself (`Reference`);
/// when it is empty, the first planned link of the protocol that serves an agent MTP.
fn link_for(
    dm: &mut DataModel,
    mtps: &[AgentMtp],
    plan: &LinkPlan,
    protocol: &str,
    reference_text: &str,
) -> Result<String, String> {
    let planned = |key: &str| plan.link(key).is_some_and(|l| kind_name(l) == protocol);
    if reference_text.trim().is_empty() {
        return plan
            .links
            .iter()
            .find(|l| kind_name(l) == protocol && l.agent_mtp.is_some())
            .map(|l| l.key.clone())
            .ok_or_else(|| format!("no enabled {protocol} MTP to send through"));
    }
    let Some(target) = reference(dm, reference_text) else {
        return Err(format!("{reference_text} does not exist"));
    };
    // An agent MTP: go through the link it references.
    let via = match mtps.iter().find(|a| a.path == target) {
        Some(a) if a.protocol == protocol => a.link.clone().unwrap_or_default(),
        Some(_) => return Err(format!("{target} is not a {protocol} MTP")),
        None if target.starts_with("Device.LocalAgent.MTP.") => {
            return Err(format!("{target} is not enabled"));
        }
        None => target.clone(),
    };
    if planned(&via) {
        Ok(via)
    } else {
        Err(format!("{reference_text} leads to no running {protocol} link"))
    }
}

/// The protocol name of a link, as `Protocol` spells it.
fn kind_name(l: &super::LinkSpec) -> &'static str {
    match &l.kind {
        #[cfg(feature = "mqtt")]
        super::LinkKind::Mqtt(_) => "MQTT",
        #[cfg(feature = "stomp")]
        super::LinkKind::Stomp(_) => "STOMP",
        #[cfg(feature = "websocket")]
        super::LinkKind::WsClient { .. } | super::LinkKind::WsServer(_) => "WebSocket",
        #[allow(unreachable_patterns)]
        _ => "",
    }
}
