// Command workloadattestor is a WorkloadAttestor plugin written the way a
// third party writes one for SPIRE: the spire-plugin-sdk's pluginmain, the
// generated v1 plugin and config servers, hcl v1 for the configuration, and a
// Metrics host-service client brokered at load time. Signet's tests run this
// binary, unmodified, under Signet's plugin catalog.
//
// Configuration (HCL v1 or JSON):
//
//	greeting = "hello"   # required; echoed back as the selector "greeting:<value>"
//	fail_attest = false  # when true, Attest fails with InvalidArgument
package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl"
	"github.com/spiffe/spire-plugin-sdk/pluginmain"
	"github.com/spiffe/spire-plugin-sdk/pluginsdk"
	metricsv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/hostservice/common/metrics/v1"
	workloadattestorv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/plugin/agent/workloadattestor/v1"
	configv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/service/common/config/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var (
	_ pluginsdk.NeedsLogger       = (*Plugin)(nil)
	_ pluginsdk.NeedsHostServices = (*Plugin)(nil)
)

// Config is the plugin's configuration.
type Config struct {
	Greeting   string `hcl:"greeting"`
	FailAttest bool   `hcl:"fail_attest"`
}

// Plugin implements the agent WorkloadAttestor v1 plugin and the Config service.
type Plugin struct {
	workloadattestorv1.UnimplementedWorkloadAttestorServer
	configv1.UnimplementedConfigServer

	configMtx   sync.RWMutex
	config      *Config
	trustDomain string

	logger  hclog.Logger
	metrics metricsv1.MetricsServiceClient
}

// Attest returns selectors derived from the PID and the configuration.
func (p *Plugin) Attest(ctx context.Context, req *workloadattestorv1.AttestRequest) (*workloadattestorv1.AttestResponse, error) {
	config, trustDomain, err := p.getConfig()
	if err != nil {
		return nil, err
	}
	if config.FailAttest {
		return nil, status.Errorf(codes.InvalidArgument, "refusing to attest pid %d", req.Pid)
	}
	if req.Pid <= 0 {
		return nil, status.Error(codes.InvalidArgument, "pid must be positive")
	}

	// A host-service call on every Attest proves the brokered connection
	// to the host works in both directions.
	metricsOK := false
	if p.metrics.IsInitialized() {
		_, err := p.metrics.IncrCounter(ctx, &metricsv1.IncrCounterRequest{
			Key:    []string{"stock_plugin", "attest"},
			Val:    1,
			Labels: []*metricsv1.Label{{Name: "pid", Value: strconv.Itoa(int(req.Pid))}},
		})
		if err != nil {
			p.logger.Warn("Failed to emit metric", "error", err)
		} else {
			metricsOK = true
		}
	}
	p.logger.Info("Attested workload", "pid", req.Pid, "greeting", config.Greeting)

	return &workloadattestorv1.AttestResponse{
		SelectorValues: []string{
			fmt.Sprintf("pid:%d", req.Pid),
			"greeting:" + config.Greeting,
			"trust_domain:" + trustDomain,
			fmt.Sprintf("self:%d", os.Getpid()),
			fmt.Sprintf("metrics:%t", metricsOK),
		},
	}, nil
}

// Configure decodes the configuration with hcl v1 (which also accepts JSON).
func (p *Plugin) Configure(ctx context.Context, req *configv1.ConfigureRequest) (*configv1.ConfigureResponse, error) {
	config := new(Config)
	if err := hcl.Decode(config, req.HclConfiguration); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "failed to decode configuration: %v", err)
	}
	if config.Greeting == "" {
		return nil, status.Error(codes.InvalidArgument, "greeting is required")
	}
	trustDomain := ""
	if req.CoreConfiguration != nil {
		trustDomain = req.CoreConfiguration.TrustDomain
	}
	p.setConfig(config, trustDomain)
	p.logger.Info("Configured", "greeting", config.Greeting, "trust_domain", trustDomain)
	return &configv1.ConfigureResponse{}, nil
}

// BrokerHostServices takes the Metrics host service if the host offers it.
func (p *Plugin) BrokerHostServices(broker pluginsdk.ServiceBroker) error {
	if !broker.BrokerClient(&p.metrics) {
		p.logger.Warn("Metrics host service not offered")
	}
	return nil
}

// SetLogger receives the SDK's logger, wired to the host's logs.
func (p *Plugin) SetLogger(logger hclog.Logger) {
	p.logger = logger
}

func (p *Plugin) setConfig(config *Config, trustDomain string) {
	p.configMtx.Lock()
	p.config = config
	p.trustDomain = trustDomain
	p.configMtx.Unlock()
}

func (p *Plugin) getConfig() (*Config, string, error) {
	p.configMtx.RLock()
	defer p.configMtx.RUnlock()
	if p.config == nil {
		return nil, "", status.Error(codes.FailedPrecondition, "not configured")
	}
	return p.config, p.trustDomain, nil
}

func main() {
	plugin := new(Plugin)
	pluginmain.Serve(
		workloadattestorv1.WorkloadAttestorPluginServer(plugin),
		configv1.ConfigServiceServer(plugin),
	)
}
