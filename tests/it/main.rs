//! Every integration test, in one test binary (`cargo test --test it`): one module per area,
//! sharing the helpers in `common`. One binary links the dependency tree once instead of once
//! per file. Its tests run in parallel threads of one process, so a test must not change
//! process-wide state (environment, current directory) and must use its own temp dirs and
//! free ports; host-wide things tests of several modules touch are taken in turn through
//! `common::host`.

mod common;

mod agent_download;
mod ansible;
mod attach;
mod completions;
mod concurrency;
mod crash_safety;
mod dist;
mod doctor;
mod doctor_catalog;
mod doctor_nodejs;
mod doctor_python;
mod history;
mod hostile_input;
mod install_fixtures;
mod install_jboss;
mod install_jetty;
mod install_jeus;
mod install_nodejs;
mod install_python;
mod install_resin;
mod install_sources;
mod install_springboot;
mod install_weblogic;
mod install_websphere;
mod json_schemas;
mod languages;
mod nss_users;
mod python_forms;
mod real_jetty;
mod real_nodejs;
mod real_php;
mod real_python;
mod real_tomcat;
mod reinstall;
mod report;
mod selectors;
mod state_trust;
mod support_bundle;
mod systemd_sandbox;
mod terminals;
mod windows;
mod wizard;
