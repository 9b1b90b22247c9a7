// flux-apply applies a folder of YAML the way Flux's kustomize-controller does, with the same engine
// (github.com/fluxcd/pkg/ssa): server-side apply under one field manager, staged (CRDs, Namespaces and
// other cluster definitions first, waited for), then WaitForSet on every applied object. `diff` runs
// the engine's server-side dry-run Diff per object and prints how many objects differ.
//
// Usage:
//
//	flux-apply [--kubeconfig FILE] [--timeout 5m] [--interval 5s] [--concurrency 4] FOLDER...
//	flux-apply diff [--kubeconfig FILE] [--concurrency 4] FOLDER...
//
// Several folders are read as one set, as a kustomization listing them would be.
//
// Exit codes: 0 success (diff: no differences), 1 diff found differences, 2 any failure.
// Timings go to stderr.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fluxcd/cli-utils/pkg/kstatus/polling"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// What kustomize-controller uses: its field manager and owner label group, its default API client
// rate limits (--kube-api-qps 50, --kube-api-burst 300) and --concurrent-ssa 4.
const (
	fieldManager = "kustomize-controller"
	ownerGroup   = "kustomize.toolkit.fluxcd.io"
	qps          = 50
	burst        = 300
)

func main() {
	args := os.Args[1:]
	if len(args) == 1 && (args[0] == "version" || args[0] == "--version") {
		fmt.Println(version())
		return
	}
	diff := len(args) > 0 && args[0] == "diff"
	if diff {
		args = args[1:]
	}
	flags := flag.NewFlagSet("flux-apply", flag.ContinueOnError)
	kubeconfig := flags.String("kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig file")
	timeout := flags.Duration("timeout", 5*time.Minute, "limit on waiting for the objects to become ready")
	interval := flags.Duration("interval", 5*time.Second, "status poll interval (kustomize-controller: 5s)")
	concurrency := flags.Int("concurrency", 4, "concurrent drift checks (kustomize-controller --concurrent-ssa)")
	name := flags.String("name", "bench", "Kustomization name in the owner labels")
	if err := flags.Parse(args); err != nil {
		os.Exit(2)
	}
	if flags.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "flux-apply: a folder is needed")
		os.Exit(2)
	}
	started := time.Now()
	code, err := run(*kubeconfig, flags.Args(), diff, *timeout, *interval, *concurrency, *name, started)
	if err != nil {
		fmt.Fprintf(os.Stderr, "flux-apply: %v\n", err)
		os.Exit(2)
	}
	os.Exit(code)
}

func run(kubeconfig string, dirs []string, diff bool, timeout, interval time.Duration, concurrency int,
	name string, started time.Time) (int, error) {
	var objects []*unstructured.Unstructured
	for _, dir := range dirs {
		objs, err := readFolder(dir)
		if err != nil {
			return 2, err
		}
		objects = append(objects, objs...)
	}
	loaded := time.Since(started)

	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return 2, fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = qps, burst
	httpClient, err := client.New(cfg, client.Options{})
	if err != nil {
		return 2, fmt.Errorf("client: %w", err)
	}
	mapper := httpClient.RESTMapper()
	poller := polling.NewStatusPoller(httpClient, mapper, polling.Options{})
	rm := ssa.NewResourceManager(httpClient, poller, ssa.Owner{Field: fieldManager, Group: ownerGroup})
	rm.SetConcurrency(concurrency)
	rm.SetOwnerLabels(objects, name, "flux-system")
	ctx := context.Background()

	if diff {
		return diffAll(ctx, rm, objects, concurrency, loaded, started)
	}

	opts := ssa.DefaultApplyOptions()
	opts.WaitInterval = interval
	opts.WaitTimeout = timeout
	cs, err := rm.ApplyAllStaged(ctx, objects, opts)
	if err != nil {
		return 2, fmt.Errorf("apply: %w", err)
	}
	applied := time.Since(started)
	counts := map[ssa.Action]int{}
	for _, e := range cs.Entries {
		counts[e.Action]++
	}
	err = rm.WaitForSet(cs.ToObjMetadataSet(), ssa.WaitOptions{Interval: interval, Timeout: timeout, FailFast: true})
	if err != nil {
		return 2, fmt.Errorf("wait: %w", err)
	}
	fmt.Fprintf(os.Stderr, "flux-apply: %d objects (%s); load %.2fs, apply %.2fs, wait %.2fs, total %.2fs\n",
		len(objects), summary(counts), loaded.Seconds(), (applied - loaded).Seconds(),
		(time.Since(started) - applied).Seconds(), time.Since(started).Seconds())
	return 0, nil
}

// diffAll runs the engine's Diff on every object, as `flux diff kustomization` does, with bounded
// concurrency.
func diffAll(ctx context.Context, rm *ssa.ResourceManager, objects []*unstructured.Unstructured,
	concurrency int, loaded time.Duration, started time.Time) (int, error) {
	var (
		mu      sync.Mutex
		differ  int
		firstEr error
		wg      sync.WaitGroup
	)
	sem := make(chan struct{}, max(concurrency, 1))
	for _, o := range objects {
		wg.Add(1)
		sem <- struct{}{}
		go func(o *unstructured.Unstructured) {
			defer wg.Done()
			defer func() { <-sem }()
			entry, _, _, err := rm.Diff(ctx, o, ssa.DefaultDiffOptions())
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstEr == nil {
					firstEr = fmt.Errorf("%s: %w", utils.FmtUnstructured(o), err)
				}
				return
			}
			if entry.Action != ssa.UnchangedAction && entry.Action != ssa.SkippedAction {
				differ++
			}
		}(o)
	}
	wg.Wait()
	if firstEr != nil {
		return 2, firstEr
	}
	fmt.Printf("%d objects differ\n", differ)
	fmt.Fprintf(os.Stderr, "flux-apply diff: %d objects, %d differ; load %.2fs, total %.2fs\n",
		len(objects), differ, loaded.Seconds(), time.Since(started).Seconds())
	if differ > 0 {
		return 1, nil
	}
	return 0, nil
}

// readFolder reads every .yaml/.yml/.json file under dir (sorted, recursive), as the kustomize build of
// a plain folder does; documents that are not Kubernetes objects are dropped by the engine's reader.
func readFolder(dir string) ([]*unstructured.Unstructured, error) {
	var files []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		ext := strings.ToLower(filepath.Ext(path))
		if !d.IsDir() && (ext == ".yaml" || ext == ".yml" || ext == ".json") {
			files = append(files, path)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var objects []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		objs, err := utils.ReadObjects(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		objects = append(objects, objs...)
	}
	if len(objects) == 0 {
		return nil, fmt.Errorf("%s: no Kubernetes objects", dir)
	}
	return objects, nil
}

// version names the engine this binary was built with, from its build information.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/fluxcd/pkg/ssa" {
				return fmt.Sprintf("flux-apply: %s %s (%s)", d.Path, d.Version, bi.GoVersion)
			}
		}
	}
	return "flux-apply: unknown engine version"
}

func summary(counts map[ssa.Action]int) string {
	var parts []string
	for a, c := range counts {
		parts = append(parts, fmt.Sprintf("%d %s", c, a))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
