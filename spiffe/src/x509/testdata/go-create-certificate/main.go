// Command go-create-certificate builds SPIRE's self-signed CA and X509-SVID templates (as
// pkg/server/credtemplate/builder.go sets them) for the inputs on stdin and prints the TBS bytes
// Go's x509.CreateCertificate produces, so x509/go-parity.test.ts can compare ours byte for byte.
// Standard library only: it builds offline.
package main

import (
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/url"
	"os"
	"time"
)

type input struct {
	CaKey       string   // PKCS#8 DER, base64
	LeafSpki    string   // SPKI DER, base64
	CaSerial    string   // decimal
	LeafSerial  string   // decimal
	Now         int64    // Unix seconds
	DNS         []string // leaf DNS SANs
	ID          string   // leaf SPIFFE ID
	CaCsr       string   // a server CA's CSR DER, base64, signed as x509svid.UpstreamCA.SignCSR does
	CaCsrSerial string   // decimal
}

// ski is SPIRE's x509util.GetSubjectKeyID: SHA-1 over the subjectPublicKey bits.
func ski(pub any) []byte {
	b, _ := x509.MarshalPKIXPublicKey(pub)
	var s struct {
		A pkix.AlgorithmIdentifier
		K asn1.BitString
	}
	asn1.Unmarshal(b, &s)
	h := sha1.Sum(s.K.Bytes)
	return h[:]
}

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func main() {
	var in input
	must(json.NewDecoder(os.Stdin).Decode(&in))
	kb, _ := base64.StdEncoding.DecodeString(in.CaKey)
	k, err := x509.ParsePKCS8PrivateKey(kb)
	must(err)
	key := k.(crypto.Signer)
	now := time.Unix(in.Now, 0)
	caSerial, _ := new(big.Int).SetString(in.CaSerial, 10)
	tdURL, _ := url.Parse("spiffe://example.org")
	caTmpl := &x509.Certificate{
		SerialNumber: caSerial, URIs: []*url.URL{tdURL}, SubjectKeyId: ski(key.Public()), BasicConstraintsValid: true,
		PublicKey: key.Public(),
		Subject:   pkix.Name{Country: []string{"US"}, Organization: []string{"SPIFFE"}, SerialNumber: caSerial.String()},
		NotBefore: now.Add(-10 * time.Second), NotAfter: now.Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, IsCA: true,
	}
	caDer, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, key.Public(), key)
	must(err)
	ca, _ := x509.ParseCertificate(caDer)

	lb, _ := base64.StdEncoding.DecodeString(in.LeafSpki)
	leafPub, err := x509.ParsePKIXPublicKey(lb)
	must(err)
	leafSerial, _ := new(big.Int).SetString(in.LeafSerial, 10)
	id, _ := url.Parse(in.ID)
	subj := pkix.Name{Country: []string{"US"}, Organization: []string{"SPIRE"}}
	if len(in.DNS) > 0 {
		subj.CommonName = in.DNS[0]
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: leafSerial, URIs: []*url.URL{id}, SubjectKeyId: ski(leafPub), AuthorityKeyId: ca.SubjectKeyId,
		BasicConstraintsValid: true, PublicKey: leafPub, Subject: subj, DNSNames: in.DNS,
		NotBefore: now.Add(-10 * time.Second), NotAfter: now.Add(time.Hour),
		KeyUsage:    x509.KeyUsageKeyEncipherment | x509.KeyUsageKeyAgreement | x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDer, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, leafPub, key)
	must(err)
	leaf, _ := x509.ParseCertificate(leafDer)

	cb, _ := base64.StdEncoding.DecodeString(in.CaCsr)
	csr, err := x509.ParseCertificateRequest(cb)
	must(err)
	upSerial, _ := new(big.Int).SetString(in.CaCsrSerial, 10)
	upTmpl := &x509.Certificate{
		SerialNumber: upSerial, Subject: csr.Subject, URIs: csr.URIs,
		NotBefore: now.Add(-10 * time.Second), NotAfter: now.Add(time.Hour), SubjectKeyId: ski(csr.PublicKey),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true, IsCA: true,
	}
	upDer, err := x509.CreateCertificate(rand.Reader, upTmpl, ca, csr.PublicKey, key)
	must(err)
	up, _ := x509.ParseCertificate(upDer)

	// credtemplate.BuildDownstreamX509CATemplate with a one-certificate parent chain.
	downSubject := ca.Subject
	downSubject.OrganizationalUnit = []string{"DOWNSTREAM-1"}
	downTmpl := &x509.Certificate{
		SerialNumber: upSerial, URIs: []*url.URL{tdURL}, SubjectKeyId: ski(leafPub), AuthorityKeyId: ca.SubjectKeyId,
		BasicConstraintsValid: true, PublicKey: leafPub, Subject: downSubject,
		NotBefore: now.Add(-10 * time.Second), NotAfter: now.Add(48 * time.Hour), // capped below
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign, IsCA: true,
	}
	if downTmpl.NotAfter.After(ca.NotAfter) {
		downTmpl.NotAfter = ca.NotAfter
	}
	downDer, err := x509.CreateCertificate(rand.Reader, downTmpl, ca, leafPub, key)
	must(err)
	down, _ := x509.ParseCertificate(downDer)

	json.NewEncoder(os.Stdout).Encode(map[string]string{
		"downstreamTbs": base64.StdEncoding.EncodeToString(down.RawTBSCertificate),
		"caTbs":         base64.StdEncoding.EncodeToString(ca.RawTBSCertificate),
		"leafTbs":       base64.StdEncoding.EncodeToString(leaf.RawTBSCertificate),
		"upstreamTbs":   base64.StdEncoding.EncodeToString(up.RawTBSCertificate),
	})
}
