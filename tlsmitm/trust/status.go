package trust

import (
	"bytes"
	"context"
	"os"
)

// Item is the state of one piece of trust provisioning.
type Item struct {
	Name      string `json:"name"`
	Path      string `json:"path,omitempty"`
	Installed bool   `json:"installed"`
	Detail    string `json:"detail,omitempty"`
}

// Status reports each piece: present and, when caPEM is given, current.
func Status(ctx context.Context, opts Options, caPEM []byte) ([]Item, error) {
	o := opts.withDefaults()
	store, ok := detectStore(o.Root)
	if !ok {
		return nil, ErrNoStore
	}
	if caPEM == nil {
		caPEM, _ = os.ReadFile(o.at(store.CAFile)) // compare with what is installed
	}
	items := []Item{
		o.fileItem("ca file ("+store.Family+")", store.CAFile, caPEM),
		o.bundleItem(store, caPEM),
		o.fileItem("environment.d drop-in", envDropIn, []byte(envFileContent(store))),
		o.fileItem("systemd DefaultEnvironment drop-in", systemDropIn, []byte(systemdContent(store))),
		o.fileItem("profile.d drop-in", profileDropIn, []byte(profileContent(store))),
	}
	if it, ok := o.javaItem(ctx, caPEM); ok {
		items = append(items, it)
	}
	return items, nil
}

func (o Options) fileItem(name, path string, want []byte) Item {
	if len(want) == 0 {
		want = nil
	}
	it := Item{Name: name, Path: o.at(path)}
	b, err := os.ReadFile(it.Path)
	switch {
	case err != nil:
		it.Detail = "missing: run `airlock trust install`"
	case want != nil && !bytes.Equal(b, want):
		it.Detail = "outdated: run `airlock trust install`"
	default:
		it.Installed = true
	}
	return it
}

// bundleItem checks that the generated system bundle holds every CA in caPEM.
func (o Options) bundleItem(store storeLayout, caPEM []byte) Item {
	it := Item{Name: "system bundle", Path: o.at(store.Bundle)}
	bundle, err := os.ReadFile(it.Path)
	if err != nil {
		it.Detail = "unreadable: " + err.Error()
		return it
	}
	it.Installed = bundleHolds(bundle, caPEM)
	if !it.Installed {
		it.Detail = "does not include the Airlock CA: run `airlock trust install`"
	}
	return it
}

func bundleHolds(bundle, caPEM []byte) bool {
	want, err := parseCerts(caPEM)
	if err != nil {
		return false
	}
	have, _ := parseCerts(bundle)
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h.Equal(w)
		}
		if !found {
			return false
		}
	}
	return true
}

func (o Options) javaItem(ctx context.Context, caPEM []byte) (Item, bool) {
	if !o.commandsAllowed(o.runInjected) || len(caPEM) == 0 {
		return Item{}, false
	}
	if _, err := o.LookPath("keytool"); err != nil {
		return Item{}, false
	}
	it := Item{Name: "java cacerts"}
	has, err := o.javaHas(ctx, caPEM)
	it.Installed = has && err == nil
	switch {
	case err != nil:
		it.Detail = err.Error()
	case !has:
		it.Detail = "Airlock CA not in the JDK cacerts: run `airlock trust install`"
	}
	return it, true
}
