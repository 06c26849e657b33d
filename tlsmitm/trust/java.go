package trust

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
)

// installJava imports the current CA into the JDK's cacerts when keytool
// exists and the store does not already hold it (Debian's ca-certificates-java
// hook adds it during update-ca-certificates; then there is nothing to add).
func (o Options) installJava(ctx context.Context, m *Manifest, store storeLayout, caPEM []byte) error {
	if !o.commandsAllowed(o.runInjected) {
		return nil
	}
	if _, err := o.LookPath("keytool"); err != nil {
		return nil // no Java here
	}
	present, err := o.javaHas(ctx, caPEM)
	if err != nil || present {
		return err
	}
	out, err := o.Run(ctx, "keytool", "-importcert", "-noprompt", "-cacerts", "-storepass", javaStorePass,
		"-alias", javaAlias, "-file", store.CAFile)
	if err != nil {
		return fmt.Errorf("keytool -importcert: %w: %s", err, bytes.TrimSpace(out))
	}
	m.JavaAlias = javaAlias
	return nil
}

// javaHas reports whether the JDK's cacerts holds the current CA (by SHA-256).
func (o Options) javaHas(ctx context.Context, caPEM []byte) (bool, error) {
	certs, err := parseCerts(caPEM)
	if err != nil {
		return false, err
	}
	out, err := o.Run(ctx, "keytool", "-list", "-cacerts", "-storepass", javaStorePass)
	if err != nil {
		return false, fmt.Errorf("keytool -list: %w: %s", err, bytes.TrimSpace(out))
	}
	return strings.Contains(string(out), javaFingerprint(certs[0])), nil
}

// debianJavaAlias is the alias Debian's ca-certificates-java hook gives our
// CA file when update-ca-certificates runs: it exists only because we
// installed airlock.crt, so uninstall removes it too if the hook did not.
const debianJavaAlias = "debian:airlock.pem"

func (o Options) uninstallJava(ctx context.Context, m *Manifest) error {
	if !o.commandsAllowed(o.runInjected) {
		return nil
	}
	if _, err := o.LookPath("keytool"); err != nil {
		return nil
	}
	var errs []error
	for _, alias := range []string{m.JavaAlias, debianJavaAlias} {
		if alias != "" {
			errs = append(errs, o.deleteJavaAlias(ctx, alias))
		}
	}
	return errors.Join(errs...)
}

func (o Options) deleteJavaAlias(ctx context.Context, alias string) error {
	out, err := o.Run(ctx, "keytool", "-delete", "-cacerts", "-storepass", javaStorePass, "-alias", alias)
	if err != nil && !strings.Contains(string(out), "does not exist") {
		return fmt.Errorf("keytool -delete %s: %w: %s", alias, err, bytes.TrimSpace(out))
	}
	return nil
}
