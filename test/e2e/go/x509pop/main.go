// x509pop-peer runs one half of SPIRE's own x509pop NodeAttestor (the built-in plugins of
// github.com/spiffe/spire at the pinned tag, called in process through their gRPC server
// interfaces) for one attestation, with its stream carried as JSON lines on stdin/stdout:
//
//	to the server half:   {"payload":"<b64>"}  then  {"challenge_response":"<b64>"}
//	from the server half: {"challenge":"<b64>"} … then {"attributes":{…}} or {"error":{…}}
//	from the agent half:  {"payload":"<b64>"}  then  {"challenge_response":"<b64>"}, or {"error":{…}}
//	to the agent half:    {"challenge":"<b64>"}
//
// Usage: x509pop-peer -side server|agent -td example.org -config '<HCL>' [-client-ip 10.0.0.1]
// Test tool only: Signet's x509pop interop test drives it against Signet's plugin.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/hashicorp/go-hclog"
	agentv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/plugin/agent/nodeattestor/v1"
	serverv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/plugin/server/nodeattestor/v1"
	configv1 "github.com/spiffe/spire-plugin-sdk/proto/spire/service/common/config/v1"
	agentx509pop "github.com/spiffe/spire/pkg/agent/plugin/nodeattestor/x509pop"
	serverx509pop "github.com/spiffe/spire/pkg/server/plugin/nodeattestor/x509pop"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

type line struct {
	Payload           []byte      `json:"payload,omitempty"`
	ChallengeResponse []byte      `json:"challenge_response,omitempty"`
	Challenge         []byte      `json:"challenge,omitempty"`
	Attributes        *attributes `json:"attributes,omitempty"`
	Error             *rpcError   `json:"error,omitempty"`
}

type attributes struct {
	SpiffeID       string   `json:"spiffe_id"`
	SelectorValues []string `json:"selector_values"`
	CanReattest    bool     `json:"can_reattest"`
}

type rpcError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type lines struct {
	in  *bufio.Scanner
	out *json.Encoder
}

func (l *lines) read() (*line, error) {
	if !l.in.Scan() {
		if err := l.in.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	msg := new(line)
	if err := json.Unmarshal(l.in.Bytes(), msg); err != nil {
		return nil, fmt.Errorf("bad input line: %w", err)
	}
	return msg, nil
}

func (l *lines) write(msg *line) error { return l.out.Encode(msg) }

// serverStream is the server half's Attest stream.
type serverStream struct {
	grpc.ServerStream
	ctx context.Context
	io  *lines
}

func (s *serverStream) Context() context.Context { return s.ctx }

func (s *serverStream) Recv() (*serverv1.AttestRequest, error) {
	msg, err := s.io.read()
	if err != nil {
		return nil, err
	}
	switch {
	case msg.Payload != nil:
		return &serverv1.AttestRequest{Request: &serverv1.AttestRequest_Payload{Payload: msg.Payload}}, nil
	case msg.ChallengeResponse != nil:
		return &serverv1.AttestRequest{Request: &serverv1.AttestRequest_ChallengeResponse{ChallengeResponse: msg.ChallengeResponse}}, nil
	default:
		// An empty line stands for a request with neither field set.
		return &serverv1.AttestRequest{}, nil
	}
}

func (s *serverStream) Send(resp *serverv1.AttestResponse) error {
	if c := resp.GetChallenge(); c != nil {
		return s.io.write(&line{Challenge: c})
	}
	a := resp.GetAgentAttributes()
	return s.io.write(&line{Attributes: &attributes{SpiffeID: a.SpiffeId, SelectorValues: a.SelectorValues, CanReattest: a.CanReattest}})
}

// agentStream is the agent half's AidAttestation stream.
type agentStream struct {
	grpc.ServerStream
	ctx context.Context
	io  *lines
}

func (s *agentStream) Context() context.Context { return s.ctx }

func (s *agentStream) Recv() (*agentv1.Challenge, error) {
	msg, err := s.io.read()
	if err != nil {
		return nil, err
	}
	return &agentv1.Challenge{Challenge: msg.Challenge}, nil
}

func (s *agentStream) Send(resp *agentv1.PayloadOrChallengeResponse) error {
	if p := resp.GetPayload(); p != nil {
		return s.io.write(&line{Payload: p})
	}
	return s.io.write(&line{ChallengeResponse: resp.GetChallengeResponse()})
}

func main() {
	side := flag.String("side", "", "server or agent")
	td := flag.String("td", "example.org", "trust domain")
	config := flag.String("config", "", "plugin_data as HCL")
	clientIP := flag.String("client-ip", "", "x-forwarded-client-ip metadata for the server half")
	flag.Parse()

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 16<<20)
	peer := &lines{in: in, out: json.NewEncoder(os.Stdout)}
	ctx := context.Background()
	req := &configv1.ConfigureRequest{CoreConfiguration: &configv1.CoreConfiguration{TrustDomain: *td}, HclConfiguration: *config}

	var err error
	switch *side {
	case "server":
		p := serverx509pop.New()
		p.SetLogger(hclog.NewNullLogger())
		if _, err = p.Configure(ctx, req); err == nil {
			if *clientIP != "" {
				ctx = metadata.NewIncomingContext(ctx, metadata.Pairs("x-forwarded-client-ip", *clientIP))
			}
			err = p.Attest(&serverStream{ctx: ctx, io: peer})
		}
	case "agent":
		p := agentx509pop.New()
		if _, err = p.Configure(ctx, req); err == nil {
			err = p.AidAttestation(&agentStream{ctx: ctx, io: peer})
		}
	default:
		fmt.Fprintln(os.Stderr, "-side must be server or agent")
		os.Exit(2)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = status.Error(codes.Unknown, "EOF")
		}
		st := status.Convert(err)
		_ = peer.write(&line{Error: &rpcError{Code: st.Code().String(), Message: st.Message()}})
	}
}
