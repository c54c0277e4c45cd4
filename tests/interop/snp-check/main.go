// Command snp-check verifies one AMD SEV-SNP attestation report with
// github.com/google/go-sev-guest, as an independent second opinion on the
// verdicts of `perimeter attest verify` (see ../run_snp_check.sh).
//
// Verification:
//
//	snp-check -report FILE -vcek FILE -chain FILE -at RFC3339
//	          [-crl FILE] [-product Milan|Genoa|Turin] [-trust-root FILE]
//
//	-report      the raw 1184-byte ATTESTATION_REPORT, or the same as hex text
//	-vcek        the VCEK or VLEK certificate (DER, or PEM with exactly one
//	             certificate)
//	-chain       PEM bundle as AMD KDS serves it: ASK (or ASVK) then ARK
//	-at          verification time for every certificate (and the CRL)
//	-crl         optional DER (or PEM) CRL issued by the ARK; when given,
//	             go-sev-guest's revocation check runs against it (offline)
//	-product     product line, needed only for v2 reports (no CPUID fields)
//	-trust-root  PEM ARK to trust instead of go-sev-guest's built-in AMD ARKs
//
// It prints one JSON line {"accepted":bool,"error":string} and exits 0 when
// the report is accepted, 1 when it is rejected, 2 on a usage error (bad
// flags, unreadable file).
//
// The trust decision is go-sev-guest's: verify.SnpAttestation checks the
// V[CL]EK certificate's form (KDS subject/issuer, RSA-PSS, P-384, KDS
// extensions), its X.509 chain to the ARK at -at, optionally the CRL, and the
// report's ECDSA P-384 signature. This program only assembles the inputs: the
// intermediate comes from -chain, and the root is the trusted ARK (built in or
// -trust-root), which must be the ARK that -chain carries.
//
// Helpers used by run_snp_check.sh (so the script needs neither python nor jq):
//
//	snp-check -list-index index.json
//	    one tab-separated line per report of tests/testdata/snp/index.json:
//	    name, report, vek, chain, the VEK's notBefore, at (middle of the VEK
//	    validity), after (one day past the VEK's notAfter), product line,
//	    report version, signing key
//	snp-check -mutate OFFSET -report IN -out OUT
//	    writes IN as raw binary with the byte at OFFSET inverted (xor 0xff)
//	snp-check -not-after CERT
//	    prints the certificate's notAfter (RFC3339, UTC)
//	snp-check -first-cert IN -out OUT
//	    writes the first certificate of a PEM bundle (or a DER file) as PEM
package main

import (
	"bytes"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-sev-guest/abi"
	spb "github.com/google/go-sev-guest/proto/sevsnp"
	"github.com/google/go-sev-guest/verify"
	"github.com/google/go-sev-guest/verify/trust"
)

const reportSize = abi.ReportSize // 0x4A0 = 1184

var productLines = []string{"Milan", "Genoa", "Turin"}

// usageError marks problems with the invocation rather than with the report.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("snp-check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	reportPath := fs.String("report", "", "attestation report (raw 1184 bytes or hex text)")
	vcekPath := fs.String("vcek", "", "VCEK or VLEK certificate (DER or PEM)")
	chainPath := fs.String("chain", "", "PEM bundle: ASK or ASVK, then ARK")
	crlPath := fs.String("crl", "", "optional CRL issued by the ARK (DER or PEM)")
	at := fs.String("at", "", "verification time, RFC3339")
	product := fs.String("product", "", "Milan, Genoa or Turin (for v2 reports)")
	trustRoot := fs.String("trust-root", "", "PEM ARK to trust instead of AMD's built-in ARKs")
	listIndex := fs.String("list-index", "", "helper: list the reports of an index.json")
	mutate := fs.String("mutate", "", "helper: offset (decimal or 0x hex) of the byte to invert")
	out := fs.String("out", "", "helper: output file of -mutate and -first-cert")
	notAfter := fs.String("not-after", "", "helper: print the notAfter of a certificate")
	firstCert := fs.String("first-cert", "", "helper: write the first certificate of a file as PEM to -out")
	if err := fs.Parse(args); err != nil {
		return verdict(stdout, usagef("%v", err))
	}
	if fs.NArg() != 0 {
		return verdict(stdout, usagef("unexpected arguments: %q", fs.Args()))
	}

	switch {
	case *listIndex != "":
		return helper(stderr, listIndexCmd(stdout, *listIndex))
	case *mutate != "":
		return helper(stderr, mutateCmd(*reportPath, *mutate, *out))
	case *notAfter != "":
		return helper(stderr, notAfterCmd(stdout, *notAfter))
	case *firstCert != "":
		return helper(stderr, firstCertCmd(*firstCert, *out))
	}

	var missing []string
	for _, f := range []struct{ name, value string }{
		{"-report", *reportPath}, {"-vcek", *vcekPath}, {"-chain", *chainPath}, {"-at", *at},
	} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintln(stderr, "usage: snp-check -report FILE -vcek FILE -chain FILE -at RFC3339 [-crl FILE] [-product Milan|Genoa|Turin] [-trust-root FILE]")
		return verdict(stdout, usagef("missing required flag(s) %s", strings.Join(missing, ", ")))
	}
	return verdict(stdout, check(*reportPath, *vcekPath, *chainPath, *crlPath, *at, *product, *trustRoot))
}

// verdict prints the JSON line and returns the exit code for err.
func verdict(stdout io.Writer, err error) int {
	line := struct {
		Accepted bool   `json:"accepted"`
		Error    string `json:"error"`
	}{Accepted: err == nil}
	if err != nil {
		line.Error = err.Error()
	}
	b, _ := json.Marshal(line)
	fmt.Fprintln(stdout, string(b))
	var ue usageError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ue):
		return 2
	default:
		return 1
	}
}

func helper(stderr io.Writer, err error) int {
	if err != nil {
		fmt.Fprintln(stderr, "snp-check:", err)
		return 2
	}
	return 0
}

func readFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return b, nil
}

// readReport returns the raw report: the file's bytes if it has exactly the
// report's size, otherwise the file read as hex text (whitespace ignored).
func readReport(path string) ([]byte, error) {
	b, err := readFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) == reportSize {
		return b, nil
	}
	text := strings.Join(strings.Fields(string(b)), "")
	raw, herr := hex.DecodeString(text)
	if herr != nil || len(raw) != reportSize {
		return nil, fmt.Errorf("report %s: %d bytes, neither a raw %d-byte report nor its hex text", path, len(b), reportSize)
	}
	return raw, nil
}

// derOf returns the DER of the first PEM block of the given type in b, or b
// itself when b is not PEM.
func derOf(b []byte, blockType string) ([]byte, error) {
	if !bytes.Contains(b, []byte("-----BEGIN")) {
		return b, nil
	}
	for rest := b; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, fmt.Errorf("no PEM %s block", blockType)
		}
		if block.Type == blockType {
			return block.Bytes, nil
		}
	}
}

func check(reportPath, vcekPath, chainPath, crlPath, at, product, trustRootPath string) error {
	now, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return usagef("-at %q: %v", at, err)
	}
	var wantProduct *spb.SevProduct
	if product != "" {
		found := false
		for _, p := range productLines {
			if strings.EqualFold(product, p) {
				wantProduct = &spb.SevProduct{Name: productName(p)}
				found = true
			}
		}
		if !found {
			return usagef("-product %q: want Milan, Genoa or Turin", product)
		}
	}

	raw, err := readReport(reportPath)
	if err != nil {
		return err
	}
	vekFile, err := readFile(vcekPath)
	if err != nil {
		return err
	}
	chainFile, err := readFile(chainPath)
	if err != nil {
		return err
	}
	var crlFile, trustFile []byte
	if crlPath != "" {
		if crlFile, err = readFile(crlPath); err != nil {
			return err
		}
	}
	if trustRootPath != "" {
		if trustFile, err = readFile(trustRootPath); err != nil {
			return err
		}
	}

	report, err := abi.ReportToProto(raw)
	if err != nil {
		return fmt.Errorf("report: %v", err)
	}
	// trust.ParseCert: DER, or PEM holding exactly one certificate.
	vekCert, err := trust.ParseCert(vekFile)
	if err != nil {
		return fmt.Errorf("vcek %s: %v", vcekPath, err)
	}
	vekDER := vekCert.Raw

	// Trusted ARK per product line: the -trust-root ARK for every line, or
	// go-sev-guest's built-in AMD ARK of each line.
	anchors := map[string]*x509.Certificate{}
	if trustFile != nil {
		der, err := derOf(trustFile, "CERTIFICATE")
		if err != nil {
			return fmt.Errorf("trust root %s: %v", trustRootPath, err)
		}
		ark, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("trust root %s: %v", trustRootPath, err)
		}
		for _, line := range productLines {
			anchors[line] = ark
		}
	} else {
		for _, line := range productLines {
			if root, ok := trust.DefaultRootCerts[line]; ok && root.ProductCerts != nil && root.ProductCerts.Ark != nil {
				anchors[line] = root.ProductCerts.Ark
			}
		}
	}

	var crl *x509.RevocationList
	if crlFile != nil {
		der, err := derOf(crlFile, "X509 CRL")
		if err != nil {
			return fmt.Errorf("crl %s: %v", crlPath, err)
		}
		if crl, err = x509.ParseRevocationList(der); err != nil {
			return fmt.Errorf("crl %s: %v", crlPath, err)
		}
	}

	// The chain's intermediate (ASK or ASVK) is offered to go-sev-guest under
	// every product line, with that line's trusted ARK as the root; go-sev-guest
	// picks the line from the report (CPUID) or the VCEK's product name and
	// checks the VCEK -> intermediate -> ARK path itself.
	roots := map[string][]*trust.AMDRootCerts{}
	var chainArk, chainIca *x509.Certificate
	for _, line := range productLines {
		anchor, ok := anchors[line]
		if !ok {
			continue
		}
		r := trust.AMDRootCertsProduct(line)
		if err := r.FromKDSCertBytes(chainFile); err != nil {
			return fmt.Errorf("chain %s: %v", chainPath, err)
		}
		if r.ProductCerts.Ark == nil {
			return fmt.Errorf("chain %s: the ARK certificate does not parse", chainPath)
		}
		chainArk = r.ProductCerts.Ark
		chainIca = r.ProductCerts.Ask
		if chainIca == nil {
			chainIca = r.ProductCerts.Asvk
		}
		r.ProductCerts.Ark = anchor
		r.CRL = crl
		roots[line] = []*trust.AMDRootCerts{r}
	}

	info, err := abi.ParseSignerInfo(report.GetSignerInfo())
	if err != nil {
		return fmt.Errorf("report: %v", err)
	}
	chain := &spb.CertificateChain{Extras: map[string][]byte{}}
	switch info.SigningKey {
	case abi.VcekReportSigner:
		chain.VcekCert = vekDER
	case abi.VlekReportSigner:
		chain.VlekCert = vekDER
	default:
		return fmt.Errorf("report: signing key %v is neither VCEK nor VLEK", info.SigningKey)
	}
	attestation := &spb.Attestation{Report: report, CertificateChain: chain, Product: wantProduct}

	opts := &verify.Options{
		DisableCertFetching: true,
		Getter:              offlineGetter{},
		Now:                 now,
		TrustedRoots:        roots,
		Product:             wantProduct,
		CheckRevocations:    crl != nil,
	}
	if err := verify.SnpAttestation(attestation, opts); err != nil {
		return err
	}
	// Accepted by go-sev-guest, whose root was the trusted ARK. The chain file's
	// own ARK must be that ARK too: the ARK of the intermediate's product line
	// (CN "SEV-<line>" or "SEV-VLEK-<line>").
	line := chainIca.Subject.CommonName[strings.LastIndex(chainIca.Subject.CommonName, "-")+1:]
	if anchor, ok := anchors[line]; !ok || !bytes.Equal(chainArk.Raw, anchor.Raw) {
		what := "go-sev-guest's built-in ARK-" + line
		if trustFile != nil {
			what = "the -trust-root ARK"
		}
		return fmt.Errorf("chain %s: its ARK (CN %q) is not %s", chainPath, chainArk.Subject.CommonName, what)
	}
	return nil
}

// productName maps a product line to the SevProduct name enum.
func productName(line string) spb.SevProduct_SevProductName {
	switch line {
	case "Milan":
		return spb.SevProduct_SEV_PRODUCT_MILAN
	case "Genoa":
		return spb.SevProduct_SEV_PRODUCT_GENOA
	case "Turin":
		return spb.SevProduct_SEV_PRODUCT_TURIN
	}
	return spb.SevProduct_SEV_PRODUCT_UNKNOWN
}

// offlineGetter refuses every download: verification uses only the given
// files (a stale -crl makes go-sev-guest try to fetch a new one, which fails).
type offlineGetter struct{}

func (offlineGetter) Get(url string) ([]byte, error) {
	return nil, fmt.Errorf("offline: not fetching %s", url)
}

// --- helpers for run_snp_check.sh --------------------------------------------

type indexFile struct {
	Reports []struct {
		Dir             string   `json:"dir"`
		ReportFile      string   `json:"report_file"`
		Product         string   `json:"product"`
		VerifiedByCerts []string `json:"verified_by_certs"`
		CertChainFile   string   `json:"cert_chain_file"`
		VekValidity     []string `json:"vek_validity"`
		VekProductName  string   `json:"vek_productName"`
		Fields          struct {
			Version    int    `json:"version"`
			SigningKey string `json:"signing_key"`
		} `json:"fields"`
	} `json:"reports"`
}

func listIndexCmd(stdout io.Writer, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var idx indexFile
	if err := json.Unmarshal(b, &idx); err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	base := filepath.Dir(path)
	for _, r := range idx.Reports {
		if r.ReportFile == "" || len(r.VerifiedByCerts) == 0 || r.CertChainFile == "" || len(r.VekValidity) != 2 {
			return fmt.Errorf("%s: report %q lacks report_file, verified_by_certs, cert_chain_file or vek_validity", path, r.Dir)
		}
		// The VEK of the report's own folder when several certify it.
		vek := r.VerifiedByCerts[0]
		for _, c := range r.VerifiedByCerts {
			if filepath.Dir(c) == filepath.Clean(r.Dir) {
				vek = c
			}
		}
		nb, err := time.Parse(time.RFC3339, r.VekValidity[0])
		if err != nil {
			return fmt.Errorf("%s: %s: vek_validity: %v", path, r.Dir, err)
		}
		na, err := time.Parse(time.RFC3339, r.VekValidity[1])
		if err != nil {
			return fmt.Errorf("%s: %s: vek_validity: %v", path, r.Dir, err)
		}
		inside := nb.Add(na.Sub(nb) / 2).UTC().Truncate(time.Second)
		after := na.Add(24 * time.Hour).UTC()
		product := r.Product
		if !isProductLine(product) {
			// v2 reports: the product line from the VEK's productName ("Milan-B0").
			product, _, _ = strings.Cut(r.VekProductName, "-")
		}
		if !isProductLine(product) {
			return fmt.Errorf("%s: %s: no product line in product %q or vek_productName %q", path, r.Dir, r.Product, r.VekProductName)
		}
		signing := r.Fields.SigningKey
		if signing == "" {
			signing = "-"
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n",
			filepath.Base(r.Dir),
			filepath.Join(base, r.ReportFile),
			filepath.Join(base, vek),
			filepath.Join(base, r.CertChainFile),
			nb.UTC().Format(time.RFC3339),
			inside.Format(time.RFC3339),
			after.Format(time.RFC3339),
			product, r.Fields.Version, signing)
	}
	return nil
}

func isProductLine(s string) bool {
	for _, p := range productLines {
		if s == p {
			return true
		}
	}
	return false
}

func mutateCmd(in, offset, out string) error {
	if in == "" || out == "" {
		return errors.New("-mutate needs -report IN and -out OUT")
	}
	off, err := strconv.ParseInt(offset, 0, 64)
	if err != nil || off < 0 || off >= reportSize {
		return fmt.Errorf("-mutate %q: want an offset in [0, %d)", offset, reportSize)
	}
	raw, err := readReport(in)
	if err != nil {
		return err
	}
	raw[off] ^= 0xff
	return os.WriteFile(out, raw, 0o644)
}

func notAfterCmd(stdout io.Writer, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	der, err := derOf(b, "CERTIFICATE")
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("%s: %v", path, err)
	}
	fmt.Fprintln(stdout, cert.NotAfter.UTC().Format(time.RFC3339))
	return nil
}

func firstCertCmd(in, out string) error {
	if out == "" {
		return errors.New("-first-cert needs -out OUT")
	}
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	der, err := derOf(b, "CERTIFICATE")
	if err != nil {
		return fmt.Errorf("%s: %v", in, err)
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return fmt.Errorf("%s: %v", in, err)
	}
	return os.WriteFile(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
}
