package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/hashicorp/hcl"
	"github.com/hashicorp/hcl/hcl/ast"
	"github.com/sirupsen/logrus"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/spire-plugin-sdk/pluginsdk"
	metricsv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/hostservice/common/metrics/v1"
	"github.com/spiffe/spire/pkg/agent/plugin/workloadattestor"
	"github.com/spiffe/spire/pkg/common/catalog"
	"github.com/spiffe/spire/pkg/common/hostservice/metricsservice"
	"github.com/spiffe/spire/pkg/common/telemetry"
)

// spireLoader loads plugins with SPIRE's catalog, exactly as spire-agent's
// pkg/agent/catalog does for WorkloadAttestors, minus the built-ins.
type spireLoader struct {
	configPath  string
	trustDomain string
	out         *output

	repo    *agentRepo
	catalog *catalog.Catalog
	metrics *recordingMetrics
}

// agentConfig is the part of an agent config file this host reads; SPIRE's
// agent keeps `plugins` as a raw HCL node the same way.
type agentConfig struct {
	Plugins ast.Node `hcl:"plugins"`
}

func (s *spireLoader) load(ctx context.Context) (map[string]any, error) {
	text, err := os.ReadFile(s.configPath)
	if err != nil {
		return nil, err
	}
	var cfg agentConfig
	if err := hcl.Decode(&cfg, string(text)); err != nil {
		return nil, fmt.Errorf("parsing %s: %w", s.configPath, err)
	}
	pluginConfigs, err := catalog.PluginConfigsFromHCLNode(cfg.Plugins)
	if err != nil {
		return nil, err
	}
	td, err := spiffeid.TrustDomainFromString(s.trustDomain)
	if err != nil {
		return nil, err
	}

	log := logrus.New()
	log.SetOutput(os.Stderr)
	log.SetFormatter(&logrus.JSONFormatter{})
	log.SetLevel(logrus.DebugLevel)

	// What each plugin will receive as hcl_configuration, for the test to
	// compare with what the plugin says it got.
	sent := map[string]string{}
	for _, pc := range pluginConfigs {
		if pc.DataSource != nil {
			if d, err := pc.DataSource.Load(); err == nil {
				sent[pc.Name] = d
			}
		}
	}

	s.metrics = &recordingMetrics{}
	s.repo = &agentRepo{}
	s.catalog, err = catalog.Load(ctx, catalog.Config{
		Log:           log,
		PluginConfigs: pluginConfigs,
		CoreConfig:    catalog.CoreConfig{TrustDomain: td},
		// The host services spire-agent offers (pkg/agent/catalog).
		HostServices: []pluginsdk.ServiceServer{
			metricsv1.MetricsServiceServer(metricsservice.V1(s.metrics)),
		},
	}, s.repo)
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, wa := range s.repo.WorkloadAttestors {
		names = append(names, wa.Name())
	}
	return map[string]any{"mode": "spire", "plugins": names, "hcl_configuration": sent}, nil
}

func (s *spireLoader) attest(ctx context.Context, pid int) ([]selector, error) {
	var all []selector
	for _, wa := range s.repo.WorkloadAttestors {
		sels, err := wa.Attest(ctx, pid)
		if err != nil {
			return nil, err
		}
		for _, sel := range sels {
			all = append(all, selector{Type: sel.Type, Value: sel.Value})
		}
	}
	s.out.emit("metrics", map[string]any{"counters": s.metrics.counters()})
	return all, nil
}

func (s *spireLoader) close() error {
	if s.catalog == nil {
		return errors.New("not loaded")
	}
	return s.catalog.Close()
}

// agentRepo is a catalog.Repository with only the WorkloadAttestor type.
type agentRepo struct {
	workloadattestor.Repository
}

func (r *agentRepo) Plugins() map[string]catalog.PluginRepo {
	return map[string]catalog.PluginRepo{"WorkloadAttestor": &workloadAttestorRepo{&r.Repository}}
}

func (r *agentRepo) Services() []catalog.ServiceRepo { return nil }

// workloadAttestorRepo mirrors pkg/agent/catalog's workloadAttestorRepository.
type workloadAttestorRepo struct {
	*workloadattestor.Repository
}

func (r *workloadAttestorRepo) Binder() any                      { return r.AddWorkloadAttestor }
func (r *workloadAttestorRepo) Constraints() catalog.Constraints { return catalog.AtLeastOne() }
func (r *workloadAttestorRepo) Versions() []catalog.Version {
	return []catalog.Version{workloadAttestorV1{}}
}
func (r *workloadAttestorRepo) BuiltIns() []catalog.BuiltIn { return nil }

type workloadAttestorV1 struct{}

func (workloadAttestorV1) New() catalog.Facade { return new(workloadattestor.V1) }
func (workloadAttestorV1) Deprecated() bool    { return false }

// recordingMetrics keeps counter keys plugins send through the Metrics host
// service; everything else is dropped.
type recordingMetrics struct {
	telemetry.Blackhole
	mu   sync.Mutex
	seen []string
}

func (m *recordingMetrics) IncrCounter(key []string, val float32) {
	m.IncrCounterWithLabels(key, val, nil)
}

func (m *recordingMetrics) IncrCounterWithLabels(key []string, val float32, labels []telemetry.Label) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := fmt.Sprint(key)
	for _, l := range labels {
		k += fmt.Sprintf(" %s=%s", l.Name, l.Value)
	}
	m.seen = append(m.seen, k)
}

func (m *recordingMetrics) counters() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string{}, m.seen...)
}
