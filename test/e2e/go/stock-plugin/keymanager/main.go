// Command keymanager is a server KeyManager plugin written the way a third
// party writes one for SPIRE (spire-plugin-sdk pluginmain, generated v1
// servers, hcl v1 configuration). Keys are EC P-256 only and live in memory.
//
// Configuration (HCL v1 or JSON):
//
//	key_prefix = "test-"   # optional; key ids must start with it
package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/hcl"
	"github.com/spiffe/spire-plugin-sdk/pluginmain"
	"github.com/spiffe/spire-plugin-sdk/pluginsdk"
	keymanagerv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/plugin/server/keymanager/v1"
	configv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/service/common/config/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

var _ pluginsdk.NeedsLogger = (*Plugin)(nil)

// Config is the plugin's configuration.
type Config struct {
	KeyPrefix string `hcl:"key_prefix"`
}

type entry struct {
	key    *ecdsa.PrivateKey
	public *keymanagerv1.PublicKey
}

// Plugin implements the server KeyManager v1 plugin and the Config service.
type Plugin struct {
	keymanagerv1.UnimplementedKeyManagerServer
	configv1.UnimplementedConfigServer

	mtx    sync.RWMutex
	config *Config
	keys   map[string]*entry

	logger hclog.Logger
}

func (p *Plugin) GenerateKey(ctx context.Context, req *keymanagerv1.GenerateKeyRequest) (*keymanagerv1.GenerateKeyResponse, error) {
	config, err := p.getConfig()
	if err != nil {
		return nil, err
	}
	if req.KeyId == "" {
		return nil, status.Error(codes.InvalidArgument, "key id is required")
	}
	if !strings.HasPrefix(req.KeyId, config.KeyPrefix) {
		return nil, status.Errorf(codes.InvalidArgument, "key id %q must start with %q", req.KeyId, config.KeyPrefix)
	}
	if req.KeyType != keymanagerv1.KeyType_EC_P256 {
		return nil, status.Errorf(codes.InvalidArgument, "unsupported key type %q", req.KeyType)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "failed to generate key: %v", err)
	}
	pkix, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, status.Errorf(codes.Internal, "failed to marshal public key: %v", err)
	}
	sum := sha256.Sum256(pkix)
	public := &keymanagerv1.PublicKey{
		Id:          req.KeyId,
		Type:        keymanagerv1.KeyType_EC_P256,
		PkixData:    pkix,
		Fingerprint: hex.EncodeToString(sum[:]),
	}
	p.mtx.Lock()
	p.keys[req.KeyId] = &entry{key: key, public: public}
	p.mtx.Unlock()
	p.logger.Info("Generated key", "key_id", req.KeyId, "fingerprint", public.Fingerprint)
	return &keymanagerv1.GenerateKeyResponse{PublicKey: public}, nil
}

func (p *Plugin) GetPublicKey(ctx context.Context, req *keymanagerv1.GetPublicKeyRequest) (*keymanagerv1.GetPublicKeyResponse, error) {
	if req.KeyId == "" {
		return nil, status.Error(codes.InvalidArgument, "key id is required")
	}
	p.mtx.RLock()
	defer p.mtx.RUnlock()
	e, ok := p.keys[req.KeyId]
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no such key %q", req.KeyId)
	}
	return &keymanagerv1.GetPublicKeyResponse{PublicKey: e.public}, nil
}

func (p *Plugin) GetPublicKeys(ctx context.Context, req *keymanagerv1.GetPublicKeysRequest) (*keymanagerv1.GetPublicKeysResponse, error) {
	p.mtx.RLock()
	defer p.mtx.RUnlock()
	out := make([]*keymanagerv1.PublicKey, 0, len(p.keys))
	for _, e := range p.keys {
		out = append(out, e.public)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Id < out[j].Id })
	return &keymanagerv1.GetPublicKeysResponse{PublicKeys: out}, nil
}

// SignData signs a digest the host computed (SPIRE passes pre-hashed data).
func (p *Plugin) SignData(ctx context.Context, req *keymanagerv1.SignDataRequest) (*keymanagerv1.SignDataResponse, error) {
	var hash crypto.Hash
	switch opts := req.SignerOpts.(type) {
	case *keymanagerv1.SignDataRequest_HashAlgorithm:
		switch opts.HashAlgorithm {
		case keymanagerv1.HashAlgorithm_SHA256:
			hash = crypto.SHA256
		case keymanagerv1.HashAlgorithm_SHA384:
			hash = crypto.SHA384
		case keymanagerv1.HashAlgorithm_SHA512:
			hash = crypto.SHA512
		default:
			return nil, status.Errorf(codes.InvalidArgument, "unsupported hash algorithm %q", opts.HashAlgorithm)
		}
	case *keymanagerv1.SignDataRequest_PssOptions:
		return nil, status.Error(codes.InvalidArgument, "PSS is not supported by EC keys")
	default:
		return nil, status.Error(codes.InvalidArgument, "signer opts are required")
	}
	if len(req.Data) != hash.Size() {
		return nil, status.Errorf(codes.InvalidArgument, "data is %d bytes; a %s digest is %d", len(req.Data), hash, hash.Size())
	}
	p.mtx.RLock()
	e, ok := p.keys[req.KeyId]
	p.mtx.RUnlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "no such key %q", req.KeyId)
	}
	sig, err := e.key.Sign(rand.Reader, req.Data, hash)
	if err != nil {
		return nil, status.Errorf(codes.Internal, "failed to sign: %v", err)
	}
	return &keymanagerv1.SignDataResponse{Signature: sig, KeyFingerprint: e.public.Fingerprint}, nil
}

func (p *Plugin) Configure(ctx context.Context, req *configv1.ConfigureRequest) (*configv1.ConfigureResponse, error) {
	config := new(Config)
	if err := hcl.Decode(config, req.HclConfiguration); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "failed to decode configuration: %v", err)
	}
	p.mtx.Lock()
	p.config = config
	p.mtx.Unlock()
	return &configv1.ConfigureResponse{}, nil
}

func (p *Plugin) SetLogger(logger hclog.Logger) {
	p.logger = logger
}

func (p *Plugin) getConfig() (*Config, error) {
	p.mtx.RLock()
	defer p.mtx.RUnlock()
	if p.config == nil {
		return nil, status.Error(codes.FailedPrecondition, "not configured")
	}
	return p.config, nil
}

func main() {
	plugin := &Plugin{keys: make(map[string]*entry)}
	pluginmain.Serve(
		keymanagerv1.KeyManagerPluginServer(plugin),
		configv1.ConfigServiceServer(plugin),
	)
}
