//! Fault injection for tests: pause, resume or kill one component of a running control plane, and
//! start it again with the same command line (same ports, certificates and etcd data), as a machine
//! that froze or a process that crashed and was restarted by its supervisor.

use std::time::Duration;

use super::{ControlPlane, ControlPlaneError, process::Component, start};

/// What [`ControlPlane::inject`] does to a component.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// SIGSTOP: the process freezes; its connections stay open and nothing answers on them.
    Pause,
    /// SIGCONT, after a pause.
    Resume,
    /// SIGKILL: no graceful shutdown. [`ControlPlane::restart`] starts it again.
    Kill,
}

impl ControlPlane {
    /// Injects `fault` into the component named `component` (`kube-apiserver`, `etcd`, `kwok`, …).
    ///
    /// # Errors
    /// [`ControlPlaneError::Io`] when there is no such component or the signal cannot be sent.
    pub fn inject(&mut self, component: &str, fault: Fault) -> Result<(), ControlPlaneError> {
        let index = self.component_index(component)?;
        let target = &mut self.components[index];
        let result = match fault {
            Fault::Pause => target.signal(libc::SIGSTOP),
            Fault::Resume => target.signal(libc::SIGCONT),
            Fault::Kill => {
                target.kill(&self.cleanup);
                Ok(())
            }
        };
        result.map_err(|source| ControlPlaneError::io("signalling", &target.binary, source))
    }

    /// Starts `component` again with its command line (killing it first if it still runs); for
    /// kube-apiserver, waits until it answers `/readyz` again. Returns how long that took.
    ///
    /// # Errors
    /// No such component, it cannot be started, it exits at once, or the apiserver is not ready
    /// within the start timeout.
    pub async fn restart(&mut self, component: &str) -> Result<Duration, ControlPlaneError> {
        let started = std::time::Instant::now();
        let index = self.component_index(component)?;
        let old = &mut self.components[index];
        old.kill(&self.cleanup);
        let (name, binary, args, log) = (
            old.name,
            old.binary.clone(),
            old.args.clone(),
            old.log.clone(),
        );
        self.components[index] = Component::start(name, &binary, &args, log, &self.cleanup)
            .map_err(|source| ControlPlaneError::io("starting", &binary, source))?;
        if name == "kube-apiserver" {
            let client = self.client()?;
            let deadline = start::Deadline::after(self.start_timeout);
            let port = self.layout.apiserver_port;
            self.step(
                deadline,
                "kube-apiserver /readyz",
                start::wait_readyz(&client, port),
            )
            .await?;
        }
        Ok(started.elapsed())
    }

    fn component_index(&self, name: &str) -> Result<usize, ControlPlaneError> {
        self.components
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                ControlPlaneError::io(
                    "no such component in",
                    &self.dir,
                    std::io::Error::other(format!("{name} is not running here")),
                )
            })
    }
}
