package daemon

import (
	"context"
	"os"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/airlock-dev/airlock/internal/kube"
)

// How often the CA is written again: soon after a failure (the API server
// or the RBAC not ready yet), rarely once it is there (someone deleted the
// ConfigMap, or the CA was replaced by a restart with a new state dir).
const (
	kubeCARetry   = 30 * time.Second
	kubeCARefresh = 10 * time.Minute
)

// startKubeCA publishes the CA certificate into each ConfigMap
// capture.containers.ca_configmaps names, under this node's key, and keeps
// it there while the daemon runs. Workload pods mount the ConfigMap rather
// than the node's state directory (which also holds the CA's key).
func (d *Daemon) startKubeCA(context.Context) error {
	refs := d.cfg.Capture.Containers.CAConfigMaps
	if len(refs) == 0 {
		return nil
	}
	c, err := kube.InCluster()
	if err != nil {
		return fail("publishing the CA to ConfigMaps", "run airlockd in a pod with a service account, or unset capture.containers.ca_configmaps", err)
	}
	ctx, cancel := context.WithCancel(d.ctx)
	var wg sync.WaitGroup
	for _, ref := range refs {
		ns, name, _ := strings.Cut(ref, "/")
		wg.Go(func() { d.publishCA(ctx, c, ns, name, nodeName()+".crt") })
	}
	d.onStop("ca_configmaps", func(context.Context) error { cancel(); wg.Wait(); return nil })
	return nil
}

func (d *Daemon) publishCA(ctx context.Context, c *kube.Client, ns, name, key string) {
	log := d.log.Named("kube").With(zap.String("configmap", ns+"/"+name), zap.String("key", key))
	for wait := time.Duration(0); ; {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		if err := c.PublishCA(ctx, ns, name, key, d.parts.ca.CertPEM()); err != nil {
			log.Warn("publishing the CA to its ConfigMap", zap.Error(err),
				zap.String("fix", "grant the service account get/patch/create on that ConfigMap (deploy/kubernetes/rbac.yaml)"))
			wait = kubeCARetry
			continue
		}
		if wait != kubeCARefresh {
			log.Info("published the CA to its ConfigMap")
		}
		wait = kubeCARefresh
	}
}

// nodeName is the Kubernetes node's name (NODE_NAME, from the downward
// API in the DaemonSet), or the host name.
func nodeName() string {
	if n := os.Getenv("NODE_NAME"); n != "" {
		return n
	}
	h, _ := os.Hostname()
	return h
}
