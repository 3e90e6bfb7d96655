package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
	metricsv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/hostservice/common/metrics/v1"
	workloadattestorv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/plugin/agent/workloadattestor/v1"
	configv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/service/common/config/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/emptypb"
)

// The SDK's Init service is internal to spire-plugin-sdk. Its wire shape
// (plugin-protocol.md §1.6) is small enough to speak by hand:
//
//	service spire.service.private.init.v1.Init {
//	  rpc Init(InitRequest) returns (InitResponse);      // 1: repeated string host_service_names
//	  rpc Deinit(DeinitRequest) returns (DeinitResponse); // empty messages
//	}                                                     // InitResponse 1: repeated string plugin_service_names
const (
	initMethod   = "/spire.service.private.init.v1.Init/Init"
	deinitMethod = "/spire.service.private.init.v1.Init/Deinit"

	// hostServiceBrokerID is the broker id SPIRE serves host services on.
	hostServiceBrokerID = 1

	workloadAttestorService = "spire.plugin.agent.workloadattestor.v1.WorkloadAttestor"
	configService           = "spire.service.common.config.v1.Config"
	metricsService          = "spire.hostservice.common.metrics.v1.Metrics"
)

// goPluginLoader is a go-plugin host written from the protocol description.
type goPluginLoader struct {
	path        string
	name        string
	args        []string
	checksum    string
	data        string
	trustDomain string
	out         *output

	client  *goplugin.Client
	conn    *pluginConn
	metrics *metricsRecorder
	stdout  lockedBuffer
}

// lockedBuffer collects what the plugin wrote to stdout after its
// handshake, which go-plugin carries over the GRPCStdio stream.
type lockedBuffer struct {
	mu  sync.Mutex
	buf []byte
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	return len(p), nil
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

type pluginConn struct {
	conn        *grpc.ClientConn
	hostServer  *grpc.Server
	served      []string
	initLatency time.Duration
}

func (g *goPluginLoader) load(ctx context.Context) (map[string]any, error) {
	logger := hclog.New(&hclog.LoggerOptions{
		Name:       "host",
		Output:     os.Stderr,
		Level:      hclog.Trace,
		JSONFormat: true,
	})
	var secure *goplugin.SecureConfig
	if g.checksum != "" {
		sum, err := hex.DecodeString(g.checksum)
		if err != nil {
			return nil, errors.New("checksum is not a valid hex string")
		}
		secure = &goplugin.SecureConfig{Checksum: sum, Hash: sha256.New()}
	}
	g.metrics = &metricsRecorder{}
	g.client = goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  1,
			MagicCookieKey:   "WorkloadAttestor",
			MagicCookieValue: "WorkloadAttestor",
		},
		// No parent-death signal, unlike SPIRE: the plugin must notice by itself.
		Cmd:              exec.Command(g.path, g.args...),
		AutoMTLS:         false,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Plugins:          map[string]goplugin.Plugin{g.name: &handPlugin{metrics: g.metrics}},
		Logger:           logger,
		SecureConfig:     secure,
		SyncStdout:       &g.stdout,
	})

	rpcClient, err := g.client.Client()
	if err != nil {
		g.client.Kill()
		return nil, fmt.Errorf("failed to launch plugin: %w", err)
	}
	raw, err := rpcClient.Dispense(g.name)
	if err != nil {
		g.client.Kill()
		return nil, err
	}
	g.conn = raw.(*pluginConn)

	if !slices.Contains(g.conn.served, workloadAttestorService) {
		g.client.Kill()
		return nil, fmt.Errorf("no supported plugin interface found in: %q", g.conn.served)
	}
	if slices.Contains(g.conn.served, configService) {
		_, err := configv1.NewConfigClient(g.conn.conn).Configure(ctx, &configv1.ConfigureRequest{
			CoreConfiguration: &configv1.CoreConfiguration{TrustDomain: g.trustDomain},
			HclConfiguration:  g.data,
		})
		if err != nil {
			_ = g.close()
			return nil, err
		}
	} else if g.data != "" {
		g.client.Kill()
		return nil, errors.New("no supported configuration interface found")
	}
	return map[string]any{
		"mode":            "goplugin",
		"plugin_services": g.conn.served,
		"init_ms":         g.conn.initLatency.Milliseconds(),
		"protocol":        g.client.Protocol(),
		"negotiated":      g.client.NegotiatedVersion(),
	}, nil
}

func (g *goPluginLoader) attest(ctx context.Context, pid int) ([]selector, error) {
	resp, err := workloadattestorv1.NewWorkloadAttestorClient(g.conn.conn).Attest(ctx, &workloadattestorv1.AttestRequest{Pid: int32(pid)})
	if err != nil {
		return nil, err
	}
	sels := make([]selector, 0, len(resp.SelectorValues))
	for _, v := range resp.SelectorValues {
		sels = append(sels, selector{Type: g.name, Value: v})
	}
	g.out.emit("metrics", map[string]any{"counters": g.metrics.counters()})
	return sels, nil
}

func (g *goPluginLoader) close() error {
	var errs error
	if g.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		var out []byte
		err := g.conn.conn.Invoke(ctx, deinitMethod, &[]byte{}, &out, grpc.ForceCodec(rawCodec{}))
		cancel()
		if err != nil && status.Code(err) != codes.Unimplemented {
			errs = errors.Join(errs, fmt.Errorf("deinit: %w", err))
		}
	}
	if g.client != nil {
		g.client.Kill() // broker close, GRPCController/Shutdown, wait 2 s, then SIGKILL
		g.out.emit("stdio", map[string]any{"stdout": g.stdout.String()})
	}
	if g.conn != nil {
		done := make(chan struct{})
		go func() { g.conn.hostServer.GracefulStop(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			g.conn.hostServer.Stop()
			errs = errors.Join(errs, errors.New("host service server did not stop gracefully"))
		}
	}
	return errs
}

// handPlugin does what SPIRE's catalog does in its go-plugin GRPCClient:
// accept broker id 1 and serve host services there, then call Init.
type handPlugin struct {
	goplugin.NetRPCUnsupportedPlugin
	metrics *metricsRecorder
}

func (p *handPlugin) GRPCServer(*goplugin.GRPCBroker, *grpc.Server) error {
	return errors.New("host side only")
}

func (p *handPlugin) GRPCClient(ctx context.Context, broker *goplugin.GRPCBroker, conn *grpc.ClientConn) (any, error) {
	listener, err := broker.Accept(hostServiceBrokerID)
	if err != nil {
		return nil, err
	}
	server := grpc.NewServer()
	metricsv1.MetricsServiceServer(p.metrics).RegisterServer(server)
	go func() { _ = server.Serve(listener) }()

	start := time.Now()
	served, err := callInit(ctx, conn, []string{metricsService})
	if err != nil {
		server.Stop()
		return nil, fmt.Errorf("failed to initialize plugin: %w", err)
	}
	return &pluginConn{conn: conn, hostServer: server, served: served, initLatency: time.Since(start)}, nil
}

func callInit(ctx context.Context, conn *grpc.ClientConn, hostServices []string) ([]string, error) {
	var req []byte
	for _, name := range hostServices {
		req = protowire.AppendTag(req, 1, protowire.BytesType)
		req = protowire.AppendString(req, name)
	}
	var resp []byte
	if err := conn.Invoke(ctx, initMethod, &req, &resp, grpc.ForceCodec(rawCodec{})); err != nil {
		return nil, err
	}
	var names []string
	for len(resp) > 0 {
		num, typ, n := protowire.ConsumeTag(resp)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		resp = resp[n:]
		if num == 1 && typ == protowire.BytesType {
			s, n := protowire.ConsumeString(resp)
			if n < 0 {
				return nil, protowire.ParseError(n)
			}
			names = append(names, s)
			resp = resp[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, resp)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		resp = resp[n:]
	}
	return names, nil
}

// rawCodec sends and receives already-encoded protobuf bytes.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}
func (rawCodec) Name() string { return "proto" }

// metricsRecorder is a Metrics host service that records counter keys.
type metricsRecorder struct {
	metricsv1.UnimplementedMetricsServer
	mu   sync.Mutex
	seen []string
}

func (m *metricsRecorder) IncrCounter(_ context.Context, req *metricsv1.IncrCounterRequest) (*emptypb.Empty, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := fmt.Sprint(req.Key)
	for _, l := range req.Labels {
		k += fmt.Sprintf(" %s=%s", l.Name, l.Value)
	}
	m.seen = append(m.seen, k)
	return &emptypb.Empty{}, nil
}

func (m *metricsRecorder) counters() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string{}, m.seen...)
}
