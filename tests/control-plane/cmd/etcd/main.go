// Mirrors etcd's own main.go (go.etcd.io/etcd/v3): the etcd server entry point at the
// version k8s.io/kubernetes pins, built by ../../build.sh.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
