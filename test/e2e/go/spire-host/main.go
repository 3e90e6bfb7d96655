// Command spire-host loads one WorkloadAttestor plugin the way SPIRE's agent
// does and prints what happened as JSON lines on stdout. Signet's tests use
// it to run Signet's TypeScript plugins under real Go hosts.
//
// Two modes:
//
//	-mode spire     SPIRE's own catalog (github.com/spiffe/spire/pkg/common/catalog)
//	                with SPIRE's WorkloadAttestor v1 facade and Metrics host
//	                service, fed from an agent-style `plugins { … }` HCL file.
//	                This is stock SPIRE's loading code, not a copy of it.
//	-mode goplugin  A go-plugin host written here from the protocol description
//	                (broker id 1, raw Init call, Configure, Attest, Deinit,
//	                Kill). Unlike SPIRE it sets no parent-death signal, so it
//	                shows whether a plugin notices its host died by itself.
//
// Output (stdout), one JSON object per line:
//
//	{"event":"loaded", ...}      plugin started, initialised and configured
//	{"event":"metrics", ...}     counters plugins sent to the Metrics host service so far
//	{"event":"attested", ...}    selectors of one Attest call
//	{"event":"holding", ...}     (-hold) waiting for a signal before unloading
//	{"event":"stdio", ...}       (goplugin) what the plugin printed on stdout, via GRPCStdio
//	{"event":"closed", ...}      plugins unloaded, with how long it took
//	{"event":"error", ...}       a stage failed; the program exits 1
//
// Logs (stderr): JSON lines from the host's logger, including every plugin
// log line as relayed by go-plugin.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

type selector struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type output struct {
	mu sync.Mutex
}

func (o *output) emit(event string, fields map[string]any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	m := map[string]any{"event": event}
	for k, v := range fields {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	fmt.Fprintln(os.Stdout, string(b))
}

// loader is what each mode provides.
type loader interface {
	// load starts, initialises and configures the plugin.
	load(ctx context.Context) (map[string]any, error)
	attest(ctx context.Context, pid int) ([]selector, error)
	close() error
}

func main() {
	mode := flag.String("mode", "spire", "spire (SPIRE's catalog) or goplugin (hand-written go-plugin host)")
	configPath := flag.String("config", "", "spire mode: HCL file with a plugins { WorkloadAttestor \"name\" { … } } block")
	trustDomain := flag.String("trust-domain", "example.org", "trust domain given to Configure")
	pluginPath := flag.String("plugin", "", "goplugin mode: plugin executable")
	pluginName := flag.String("name", "test", "goplugin mode: plugin name (selector type)")
	checksum := flag.String("checksum", "", "goplugin mode: hex sha256 of the plugin executable")
	data := flag.String("data", "", "goplugin mode: configuration text passed to Configure")
	var args stringList
	flag.Var(&args, "arg", "goplugin mode: plugin argument (repeatable)")
	pid := flag.Int("pid", os.Getpid(), "PID to attest")
	attests := flag.Int("attests", 1, "how many Attest calls to make")
	hold := flag.Bool("hold", false, "after attesting, wait for SIGTERM/SIGINT (or SIGKILL) before unloading")
	flag.Parse()

	out := &output{}
	var l loader
	switch *mode {
	case "spire":
		l = &spireLoader{configPath: *configPath, trustDomain: *trustDomain, out: out}
	case "goplugin":
		l = &goPluginLoader{
			path: *pluginPath, name: *pluginName, args: args, checksum: *checksum,
			data: *data, trustDomain: *trustDomain, out: out,
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown mode %q\n", *mode)
		os.Exit(2)
	}

	ctx := context.Background()
	start := time.Now()
	info, err := l.load(ctx)
	if err != nil {
		out.emit("error", map[string]any{"stage": "load", "error": err.Error()})
		os.Exit(1)
	}
	info["load_ms"] = time.Since(start).Milliseconds()
	out.emit("loaded", info)

	for i := 0; i < *attests; i++ {
		callStart := time.Now()
		sels, err := l.attest(ctx, *pid)
		if err != nil {
			out.emit("error", map[string]any{"stage": "attest", "error": err.Error()})
			_ = l.close()
			os.Exit(1)
		}
		out.emit("attested", map[string]any{"selectors": sels, "call_ms": time.Since(callStart).Milliseconds()})
	}

	if *hold {
		out.emit("holding", map[string]any{"host_pid": os.Getpid()})
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
		<-sigs
	}

	closeStart := time.Now()
	err = l.close()
	fields := map[string]any{"close_ms": time.Since(closeStart).Milliseconds()}
	if err != nil {
		fields["error"] = err.Error()
	}
	out.emit("closed", fields)
}

type stringList []string

func (s *stringList) String() string     { return fmt.Sprint(*s) }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
