// Command workload-peer is a workload written against go-spiffe v2's
// workloadapi, talking to the agent named by SPIFFE_ENDPOINT_SOCKET:
//
//	workload-peer fetch -audience A
//	    one of each Workload API call (X509 context, X.509 bundles, JWT-SVIDs,
//	    JWT bundles, ValidateJWTSVID), the X509-SVIDs checked with
//	    x509svid.Verify and the JWT-SVID with jwtsvid.ParseAndValidate; one
//	    JSON object on stdout.
//	workload-peer serve -id ID -peer PEER
//	    an X509Source presenting ID behind tlsconfig.MTLSServerConfig that
//	    admits exactly PEER; echoes one line per connection. JSON lines on
//	    stdout: {"listening":addr}, then one event per connection.
//	workload-peer dial -addr ADDR -id ID -peer PEER -msg M
//	    tlsconfig.MTLSClientConfig presenting ID, server authorized as exactly
//	    PEER; sends M, reads one line. One JSON object on stdout.
//
// Exit status 1 only for failures before the interesting part (bad flags, no
// agent); TLS and validation outcomes are reported in the JSON.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/jwtbundle"
	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"
	"github.com/spiffe/go-spiffe/v2/spiffeid"
	"github.com/spiffe/go-spiffe/v2/spiffetls/tlsconfig"
	"github.com/spiffe/go-spiffe/v2/svid/jwtsvid"
	"github.com/spiffe/go-spiffe/v2/svid/x509svid"
	"github.com/spiffe/go-spiffe/v2/workloadapi"
)

func main() {
	if len(os.Args) < 2 {
		fail(errors.New("usage: workload-peer fetch|serve|dial [flags]"))
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	audience := fs.String("audience", "", "JWT-SVID audience (fetch)")
	id := fs.String("id", "", "SPIFFE ID of the SVID to present (serve, dial)")
	peer := fs.String("peer", "", "the only SPIFFE ID the peer may have (serve, dial)")
	addr := fs.String("addr", "", "server address (dial)")
	msg := fs.String("msg", "hello", "line to send (dial)")
	_ = fs.Parse(os.Args[2:])

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	switch os.Args[1] {
	case "fetch":
		err = fetch(ctx, *audience)
	case "serve":
		err = serve(ctx, *id, *peer)
	case "dial":
		err = dial(ctx, *addr, *id, *peer, *msg)
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func emit(v any) {
	_ = json.NewEncoder(os.Stdout).Encode(v)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

type x509SvidOut struct {
	ID          string `json:"id"`
	Hint        string `json:"hint"`
	Serial      string `json:"serial"`
	LeafSha256  string `json:"leafSha256"`
	NotAfter    string `json:"notAfter"`
	ChainLength int    `json:"chainLength"`
	VerifiedID  string `json:"verifiedId"`
	VerifyError string `json:"verifyError"`
}

type jwtSvidOut struct {
	ID              string   `json:"id"`
	Hint            string   `json:"hint"`
	Audience        []string `json:"audience"`
	Expiry          string   `json:"expiry"`
	Token           string   `json:"token"`
	ParsedID        string   `json:"parsedId"`
	ParsedAudience  []string `json:"parsedAudience"`
	ParseError      string   `json:"parseError"`
	ValidatedID     string   `json:"validatedId"`
	ValidatedClaims []string `json:"validatedClaims"`
	ValidateError   string   `json:"validateError"`
	// The same token for another audience: both checks must refuse it.
	WrongAudienceParseError    string `json:"wrongAudienceParseError"`
	WrongAudienceValidateError string `json:"wrongAudienceValidateError"`
}

type fetchOut struct {
	X509SVIDs         []x509SvidOut       `json:"x509Svids"`
	DefaultX509ID     string              `json:"defaultX509Id"`
	ContextBundles    map[string][]string `json:"contextBundles"`
	X509Bundles       map[string][]string `json:"x509Bundles"`
	JWTSVID           jwtSvidOut          `json:"jwtSvid"`
	JWTSVIDIDs        []string            `json:"jwtSvidIds"`
	JWTBundleKeyIDs   map[string][]string `json:"jwtBundleKeyIds"`
	DefaultSourceX509 string              `json:"defaultSourceX509Id"`
}

func fetch(ctx context.Context, audience string) error {
	client, err := workloadapi.New(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	var out fetchOut

	x509Ctx, err := client.FetchX509Context(ctx)
	if err != nil {
		return fmt.Errorf("FetchX509Context: %w", err)
	}
	for _, svid := range x509Ctx.SVIDs {
		leaf := svid.Certificates[0]
		sum := sha256.Sum256(leaf.Raw)
		o := x509SvidOut{
			ID:          svid.ID.String(),
			Hint:        svid.Hint,
			Serial:      leaf.SerialNumber.Text(16),
			LeafSha256:  hex.EncodeToString(sum[:]),
			NotAfter:    leaf.NotAfter.UTC().Format(time.RFC3339),
			ChainLength: len(svid.Certificates),
		}
		verified, _, err := x509svid.Verify(svid.Certificates, x509Ctx.Bundles)
		o.VerifyError = errText(err)
		if err == nil {
			o.VerifiedID = verified.String()
		}
		out.X509SVIDs = append(out.X509SVIDs, o)
	}
	out.DefaultX509ID = x509Ctx.DefaultSVID().ID.String()
	out.ContextBundles = x509Authorities(x509Ctx.Bundles)

	bundles, err := client.FetchX509Bundles(ctx)
	if err != nil {
		return fmt.Errorf("FetchX509Bundles: %w", err)
	}
	out.X509Bundles = x509Authorities(bundles)

	jwtBundles, err := client.FetchJWTBundles(ctx)
	if err != nil {
		return fmt.Errorf("FetchJWTBundles: %w", err)
	}
	out.JWTBundleKeyIDs = map[string][]string{}
	for _, b := range jwtBundles.Bundles() {
		var kids []string
		for kid := range b.JWTAuthorities() {
			kids = append(kids, kid)
		}
		sort.Strings(kids)
		out.JWTBundleKeyIDs[b.TrustDomain().String()] = kids
	}

	svid, err := client.FetchJWTSVID(ctx, jwtsvid.Params{Audience: audience})
	if err != nil {
		return fmt.Errorf("FetchJWTSVID: %w", err)
	}
	out.JWTSVID = checkJWT(ctx, client, svid, audience, jwtBundles)

	all, err := client.FetchJWTSVIDs(ctx, jwtsvid.Params{Audience: audience})
	if err != nil {
		return fmt.Errorf("FetchJWTSVIDs: %w", err)
	}
	for _, s := range all {
		out.JWTSVIDIDs = append(out.JWTSVIDIDs, s.ID.String())
	}

	// The source a TLS workload would use: its default SVID is the first of the context.
	source, err := workloadapi.NewX509Source(ctx, workloadapi.WithClient(client))
	if err != nil {
		return fmt.Errorf("NewX509Source: %w", err)
	}
	defer source.Close()
	def, err := source.GetX509SVID()
	if err != nil {
		return err
	}
	out.DefaultSourceX509 = def.ID.String()

	emit(out)
	return nil
}

func checkJWT(ctx context.Context, client *workloadapi.Client, svid *jwtsvid.SVID, audience string, bundles *jwtbundle.Set) jwtSvidOut {
	o := jwtSvidOut{
		ID:       svid.ID.String(),
		Hint:     svid.Hint,
		Audience: svid.Audience,
		Expiry:   svid.Expiry.UTC().Format(time.RFC3339),
		Token:    svid.Marshal(),
	}
	parsed, err := jwtsvid.ParseAndValidate(o.Token, bundles, []string{audience})
	o.ParseError = errText(err)
	if err == nil {
		o.ParsedID = parsed.ID.String()
		o.ParsedAudience = parsed.Audience
	}
	validated, err := client.ValidateJWTSVID(ctx, o.Token, audience)
	o.ValidateError = errText(err)
	if err == nil {
		o.ValidatedID = validated.ID.String()
		for k := range validated.Claims {
			o.ValidatedClaims = append(o.ValidatedClaims, k)
		}
		sort.Strings(o.ValidatedClaims)
	}
	_, err = jwtsvid.ParseAndValidate(o.Token, bundles, []string{audience + "-other"})
	o.WrongAudienceParseError = errText(err)
	_, err = client.ValidateJWTSVID(ctx, o.Token, audience+"-other")
	o.WrongAudienceValidateError = errText(err)
	return o
}

// x509Authorities: trust domain → SHA-256 of each authority's DER, sorted.
func x509Authorities(set *x509bundle.Set) map[string][]string {
	out := map[string][]string{}
	for _, b := range set.Bundles() {
		var sums []string
		for _, c := range b.X509Authorities() {
			sum := sha256.Sum256(c.Raw)
			sums = append(sums, hex.EncodeToString(sum[:]))
		}
		sort.Strings(sums)
		out[b.TrustDomain().String()] = sums
	}
	return out
}

// source: an X509Source whose default SVID is the one for `id`.
func source(ctx context.Context, id string) (*workloadapi.X509Source, error) {
	want, err := spiffeid.FromString(id)
	if err != nil {
		return nil, err
	}
	pick := func(svids []*x509svid.SVID) *x509svid.SVID {
		for _, s := range svids {
			if s.ID == want {
				return s
			}
		}
		return svids[0]
	}
	src, err := workloadapi.NewX509Source(ctx, workloadapi.WithDefaultX509SVIDPicker(pick))
	if err != nil {
		return nil, err
	}
	got, err := src.GetX509SVID()
	if err != nil {
		return nil, err
	}
	if got.ID != want {
		src.Close()
		return nil, fmt.Errorf("the agent gave no X509-SVID for %s", id)
	}
	return src, nil
}

func peerID(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	id, err := x509svid.IDFromCert(cs.PeerCertificates[0])
	if err != nil {
		return ""
	}
	return id.String()
}

func serialOf(certs []*x509.Certificate) string {
	if len(certs) == 0 {
		return ""
	}
	return certs[0].SerialNumber.Text(16)
}

type connEvent struct {
	Event      string `json:"event"`
	PeerID     string `json:"peerId,omitempty"`
	PeerSerial string `json:"peerSerial,omitempty"`
	Received   string `json:"received,omitempty"`
	Error      string `json:"error,omitempty"`
}

func serve(ctx context.Context, id, peer string) error {
	peerID0, err := spiffeid.FromString(peer)
	if err != nil {
		return err
	}
	src, err := source(ctx, id)
	if err != nil {
		return err
	}
	defer src.Close()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", tlsconfig.MTLSServerConfig(src, src, tlsconfig.AuthorizeID(peerID0)))
	if err != nil {
		return err
	}
	emit(map[string]string{"listening": ln.Addr().String()})
	// Until the test closes stdin.
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString(0)
		_ = ln.Close()
	}()
	for {
		conn, err := ln.Accept()
		if err != nil {
			return nil
		}
		go handle(conn.(*tls.Conn))
	}
}

func handle(conn *tls.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	if err := conn.Handshake(); err != nil {
		emit(connEvent{Event: "handshake-failed", Error: err.Error()})
		return
	}
	cs := conn.ConnectionState()
	line, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		emit(connEvent{Event: "read-failed", PeerID: peerID(cs), Error: err.Error()})
		return
	}
	line = strings.TrimSuffix(line, "\n")
	if _, err := conn.Write([]byte("go:" + line + "\n")); err != nil {
		emit(connEvent{Event: "write-failed", PeerID: peerID(cs), Error: err.Error()})
		return
	}
	emit(connEvent{Event: "echoed", PeerID: peerID(cs), PeerSerial: serialOf(cs.PeerCertificates), Received: line})
}

type dialOut struct {
	OK           bool   `json:"ok"`
	ServerID     string `json:"serverId,omitempty"`
	ServerSerial string `json:"serverSerial,omitempty"`
	OwnID        string `json:"ownId"`
	Reply        string `json:"reply,omitempty"`
	Stage        string `json:"stage,omitempty"`
	Error        string `json:"error,omitempty"`
}

func dial(ctx context.Context, addr, id, peer, msg string) error {
	serverID, err := spiffeid.FromString(peer)
	if err != nil {
		return err
	}
	src, err := source(ctx, id)
	if err != nil {
		return err
	}
	defer src.Close()
	own, _ := src.GetX509SVID()
	out := dialOut{OwnID: own.ID.String()}
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 10 * time.Second}, Config: tlsconfig.MTLSClientConfig(src, src, tlsconfig.AuthorizeID(serverID))}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		out.Stage, out.Error = "handshake", err.Error()
		emit(out)
		return nil
	}
	conn := c.(*tls.Conn)
	defer conn.Close()
	cs := conn.ConnectionState()
	out.ServerID, out.ServerSerial = peerID(cs), serialOf(cs.PeerCertificates)
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte(msg + "\n")); err != nil {
		out.Stage, out.Error = "write", err.Error()
		emit(out)
		return nil
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		out.Stage, out.Error = "read", err.Error()
		emit(out)
		return nil
	}
	out.OK, out.Reply = true, strings.TrimSuffix(reply, "\n")
	emit(out)
	return nil
}
