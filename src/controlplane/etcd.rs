//! etcd as a fault to inject: killed, then started again on the same ports and data, while the
//! apiserver keeps running (it fails requests meanwhile and reconnects on its own).

use super::process::Component;
use super::{ControlPlane, ControlPlaneError, components};

impl ControlPlane {
    /// Kills etcd with SIGKILL, as a crash would.
    ///
    /// # Errors
    /// [`ControlPlaneError::MissingBinary`] when this control plane runs no etcd.
    pub fn kill_etcd(&mut self) -> Result<(), ControlPlaneError> {
        let index = self.etcd_index()?;
        self.components[index].kill(&self.cleanup);
        Ok(())
    }

    /// Starts etcd again after [`ControlPlane::kill_etcd`], on its ports and data, logging to the same
    /// file.
    ///
    /// # Errors
    /// etcd cannot be started.
    pub fn start_etcd(&mut self) -> Result<(), ControlPlaneError> {
        let index = self.etcd_index()?;
        let binary =
            self.assets
                .binary("etcd")
                .ok_or_else(|| ControlPlaneError::MissingBinary {
                    binary: "etcd",
                    dir: self.assets.dir().to_owned(),
                })?;
        let log = self.components[index].log.clone();
        let args = components::etcd(&self.layout);
        let etcd = Component::start("etcd", &binary, &args, log, &self.cleanup)
            .map_err(|source| ControlPlaneError::io("starting", &binary, source))?;
        // Same place in the list: shutdown stops in reverse start order.
        self.components[index] = etcd;
        Ok(())
    }

    fn etcd_index(&self) -> Result<usize, ControlPlaneError> {
        self.components
            .iter()
            .position(|c| c.name == "etcd")
            .ok_or_else(|| ControlPlaneError::MissingBinary {
                binary: "etcd",
                dir: self.assets.dir().to_owned(),
            })
    }
}
