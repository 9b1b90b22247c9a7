//! The local control plane: etcd, kube-apiserver, controller manager, scheduler and kwok.
