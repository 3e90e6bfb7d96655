// Command server-tls-client calls one method of a Signet (or SPIRE) server's
// TCP API the way the stock spire-agent connects: gRPC over TLS configured by
// go-spiffe's tlsconfig.TLSClientConfig (no client certificate) or
// tlsconfig.MTLSClientConfig (the agent's X509-SVID), authorizing the server
// by its exact SPIFFE ID. It prints one JSON line with the status code, the
// message, and field 1 of the response if it is a string (the tests' echo).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/types/known/emptypb"
)

type result struct {
	Code    uint32 `json:"code"`
	Message string `json:"message"`
	Field1  string `json:"field1,omitempty"`
}

func main() {
	addr := flag.String("addr", "", "host:port of the server's TCP API")
	bundlePath := flag.String("bundle", "", "PEM bundle of the trust domain")
	serverID := flag.String("server-id", "", "expected SPIFFE ID of the server")
	certPath := flag.String("cert", "", "client X509-SVID chain (PEM); empty = no client certificate")
	keyPath := flag.String("key", "", "client private key (PEM)")
	method := flag.String("method", "/spire.api.server.bundle.v1.Bundle/GetBundle", "full method; request sent empty")
	flag.Parse()

	if err := run(*addr, *bundlePath, *serverID, *certPath, *keyPath, *method); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(addr, bundlePath, serverID, certPath, keyPath, method string) error {
	id, err := spiffeid.FromString(serverID)
	if err != nil {
		return err
	}
	bundle, err := x509bundle.Load(id.TrustDomain(), bundlePath)
	if err != nil {
		return err
	}
	authorizer := tlsconfig.AuthorizeID(id)
	tlsConfig := tlsconfig.TLSClientConfig(bundle, authorizer)
	if certPath != "" {
		svid, err := x509svid.Load(certPath, keyPath)
		if err != nil {
			return err
		}
		tlsConfig = tlsconfig.MTLSClientConfig(svid, bundle, authorizer)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(tlsConfig)))
	if err != nil {
		return err
	}
	defer conn.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp := new(emptypb.Empty)
	callErr := conn.Invoke(ctx, method, new(emptypb.Empty), resp)
	st := status.Convert(callErr)
	out := result{Code: uint32(st.Code()), Message: st.Message()}
	if callErr == nil {
		out.Field1 = firstStringField(resp.ProtoReflect().GetUnknown())
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// firstStringField returns field 1 if it is length-delimited (a string).
func firstStringField(b []byte) string {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return ""
		}
		b = b[n:]
		if num == 1 && typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(b)
			if m < 0 {
				return ""
			}
			return string(v)
		}
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return ""
		}
		b = b[m:]
	}
	return ""
}
