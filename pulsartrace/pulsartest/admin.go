package pulsartest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// maxAdminBody bounds what one admin request may make the server read.
const maxAdminBody = 8 << 20

// apiError is an admin failure: an HTTP status and the reason a real
// broker gives, which pulsaradmin surfaces as rest.Error.
type apiError struct {
	status int
	reason string
}

func (e *apiError) Error() string { return e.reason }

func errorf(status int, format string, args ...any) error {
	return &apiError{status: status, reason: fmt.Sprintf(format, args...)}
}

// rawResponse is a reply that is not JSON: a message body with headers.
type rawResponse struct {
	header http.Header
	body   []byte
}

// jsonNumber is a reply written verbatim as a JSON number or literal.
type jsonLiteral string

func (s *Server) adminHandler() http.Handler {
	return http.HandlerFunc(s.serveAdmin)
}

func (s *Server) serveAdmin(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A bug in a handler must not take the server down: report it
		// as a broker would report an unexpected failure.
		if p := recover(); p != nil {
			s.log.Error("pulsartest: admin handler failed", "method", r.Method, "path", r.URL.Path,
				"panic", p, "stack", string(debug.Stack()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"reason": fmt.Sprint(p)})
		}
	}()
	r.Body = http.MaxBytesReader(w, r.Body, maxAdminBody)
	v, err := s.route(r)
	if err != nil {
		var ae *apiError
		if !errors.As(err, &ae) {
			ae = &apiError{status: http.StatusInternalServerError, reason: err.Error()}
		}
		if ae.status >= 500 {
			s.log.Warn("pulsartest: admin request failed", "method", r.Method, "path", r.URL.Path, "err", ae.reason)
		} else {
			s.log.Debug("pulsartest: admin request refused", "method", r.Method, "path", r.URL.Path,
				"status", ae.status, "reason", ae.reason)
		}
		writeJSON(w, ae.status, map[string]string{"reason": ae.reason})
		return
	}
	switch v := v.(type) {
	case nil:
		w.WriteHeader(http.StatusNoContent)
	case rawResponse:
		for k, vals := range v.header {
			w.Header()[k] = vals
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(v.body)
	case jsonLiteral:
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, string(v))
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"reason":"cannot encode reply"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// decodeBody decodes a JSON request body into v; an empty body leaves v
// unchanged.
func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return errorf(http.StatusBadRequest, "cannot read request body: %v", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return errorf(http.StatusBadRequest, "invalid request body: %v", err)
	}
	return nil
}

func (s *Server) route(r *http.Request) (any, error) {
	segs := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	for _, seg := range segs {
		if seg == "" {
			return nil, errorf(http.StatusNotFound, "not found: %s", r.URL.Path)
		}
	}
	switch {
	case len(segs) >= 3 && segs[0] == "lookup" && segs[1] == "v2" && (segs[2] == "topic" || segs[2] == "destination"):
		if r.Method != http.MethodGet {
			return nil, methodNotAllowed(r)
		}
		return s.lookupHTTP(segs[3:])
	case len(segs) >= 3 && segs[0] == "admin" && segs[1] == "v2":
		switch segs[2] {
		case "tenants":
			return s.routeTenants(r, segs[3:])
		case "namespaces":
			return s.routeNamespaces(r, segs[3:])
		case "persistent", "non-persistent":
			return s.routeTopics(r, segs[2], segs[3:])
		case "schemas":
			return s.routeSchemas(r, segs[3:])
		case "clusters":
			if r.Method == http.MethodGet && len(segs) == 3 {
				return []string{"standalone"}, nil
			}
		}
	}
	return nil, errorf(http.StatusNotFound, "not found: %s", r.URL.Path)
}

func methodNotAllowed(r *http.Request) error {
	return errorf(http.StatusMethodNotAllowed, "method %s not allowed on %s", r.Method, r.URL.Path)
}

func boolParam(r *http.Request, name string) bool {
	v, _ := strconv.ParseBool(r.URL.Query().Get(name))
	return v
}

// lookupHTTP answers the HTTP lookup of a topic, which a client created
// with an http:// service URL uses before it connects.
func (s *Server) lookupHTTP(segs []string) (any, error) {
	if len(segs) != 4 {
		return nil, errorf(http.StatusNotFound, "not found")
	}
	tn, err := parseTopic(segs[0] + "://" + strings.Join(segs[1:], "/"))
	if err != nil {
		return nil, errorf(http.StatusPreconditionFailed, "Invalid topic name: %v", err)
	}
	_ = tn
	return map[string]string{
		"brokerUrl":    s.url,
		"brokerUrlTls": "",
		"httpUrl":      s.adminURL,
		"httpUrlTls":   "",
		"nativeUrl":    s.url,
	}, nil
}

// Tenants.

type tenantInfo struct {
	AdminRoles      []string `json:"adminRoles"`
	AllowedClusters []string `json:"allowedClusters"`
}

func (s *Server) routeTenants(r *http.Request, segs []string) (any, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(segs) == 0 {
		if r.Method != http.MethodGet {
			return nil, methodNotAllowed(r)
		}
		return sortedMapKeys(s.tenants), nil
	}
	if len(segs) != 1 {
		return nil, errorf(http.StatusNotFound, "not found")
	}
	name := segs[0]
	t, ok := s.tenants[name]
	switch r.Method {
	case http.MethodGet:
		if !ok {
			return nil, errorf(http.StatusNotFound, "Tenant does not exist")
		}
		return t, nil
	case http.MethodPut, http.MethodPost:
		var info tenantInfo
		if err := decodeBody(r, &info); err != nil {
			return nil, err
		}
		if info.AdminRoles == nil {
			info.AdminRoles = []string{}
		}
		if info.AllowedClusters == nil {
			info.AllowedClusters = []string{}
		}
		if r.Method == http.MethodPut {
			if ok {
				return nil, errorf(http.StatusConflict, "Tenant already exists")
			}
			if !validName(name) {
				return nil, errorf(http.StatusPreconditionFailed, "Tenant name is not valid")
			}
		} else if !ok {
			return nil, errorf(http.StatusNotFound, "Tenant does not exist")
		}
		s.tenants[name] = &info
		return nil, nil
	case http.MethodDelete:
		if !ok {
			return nil, errorf(http.StatusNotFound, "Tenant does not exist")
		}
		for ns := range s.namespaces {
			if strings.HasPrefix(ns, name+"/") {
				return nil, errorf(http.StatusConflict, "The tenant still has active namespaces")
			}
		}
		delete(s.tenants, name)
		return nil, nil
	}
	return nil, methodNotAllowed(r)
}

// validName accepts the characters a broker accepts in tenant, namespace
// and subscription names.
func validName(n string) bool {
	if n == "" {
		return false
	}
	for _, r := range n {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-=:._", r):
		default:
			return false
		}
	}
	return true
}

func sortedMapKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Namespaces.

// namespaceInfo holds a namespace's policies.
type namespaceInfo struct {
	quotas map[string]backlogQuota
}

func (s *Server) routeNamespaces(r *http.Request, segs []string) (any, error) {
	if len(segs) == 0 {
		return nil, errorf(http.StatusNotFound, "not found")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tenant := segs[0]
	if len(segs) == 1 {
		if r.Method != http.MethodGet {
			return nil, methodNotAllowed(r)
		}
		if _, ok := s.tenants[tenant]; !ok {
			return nil, errorf(http.StatusNotFound, "Tenant does not exist")
		}
		out := []string{}
		for _, ns := range sortedMapKeys(s.namespaces) {
			if strings.HasPrefix(ns, tenant+"/") {
				out = append(out, ns)
			}
		}
		return out, nil
	}
	nsName := tenant + "/" + segs[1]
	ns, ok := s.namespaces[nsName]
	if len(segs) == 2 {
		switch r.Method {
		case http.MethodPut:
			if ok {
				return nil, errorf(http.StatusConflict, "Namespace already exists")
			}
			if _, ok := s.tenants[tenant]; !ok {
				return nil, errorf(http.StatusNotFound, "Tenant does not exist")
			}
			if !validName(segs[1]) {
				return nil, errorf(http.StatusPreconditionFailed, "Namespace name is not valid")
			}
			s.namespaces[nsName] = &namespaceInfo{quotas: map[string]backlogQuota{}}
			return nil, nil
		case http.MethodGet:
			if !ok {
				return nil, errorf(http.StatusNotFound, "Namespace does not exist")
			}
			return map[string]any{
				"bundles": map[string]any{
					"boundaries": []string{"0x00000000", "0xffffffff"},
					"numBundles": 1,
				},
				"backlog_quota_map":    ns.quotas,
				"replication_clusters": []string{"standalone"},
			}, nil
		case http.MethodDelete:
			if !ok {
				return nil, errorf(http.StatusNotFound, "Namespace does not exist")
			}
			if len(s.namespaceTopicsLocked(nsName, "ALL")) > 0 || s.hasPartitionedLocked(nsName) {
				if !boolParam(r, "force") {
					return nil, errorf(http.StatusConflict, "Cannot delete non empty namespace")
				}
				for _, name := range s.namespaceTopicsLocked(nsName, "ALL") {
					s.deleteTopicLocked(s.topics[name])
				}
				for base := range s.partitioned {
					if tn, _ := parseTopic(base); tn.namespace == nsName {
						delete(s.partitioned, base)
					}
				}
			}
			delete(s.namespaces, nsName)
			return nil, nil
		}
		return nil, methodNotAllowed(r)
	}
	if !ok {
		return nil, errorf(http.StatusNotFound, "Namespace does not exist")
	}
	switch {
	case len(segs) == 3 && segs[2] == "topics" && r.Method == http.MethodGet:
		mode := strings.ToUpper(r.URL.Query().Get("mode"))
		if mode == "" {
			mode = "PERSISTENT"
		}
		return s.namespaceTopicsLocked(nsName, mode), nil
	case len(segs) == 3 && segs[2] == "backlogQuotaMap" && r.Method == http.MethodGet:
		return ns.quotas, nil
	case len(segs) == 3 && segs[2] == "backlogQuota":
		return s.changeQuotas(r, ns.quotas)
	case len(segs) == 3 && segs[2] == "unload" && r.Method == http.MethodPut:
		for _, name := range s.namespaceTopicsLocked(nsName, "ALL") {
			s.unloadTopicLocked(s.topics[name])
		}
		return nil, nil
	}
	return nil, errorf(http.StatusNotFound, "not found")
}

func (s *Server) hasPartitionedLocked(ns string) bool {
	for base := range s.partitioned {
		if tn, _ := parseTopic(base); tn.namespace == ns {
			return true
		}
	}
	return false
}

// namespaceTopicsLocked lists the stored topics (partitions included) of a
// namespace; mode is PERSISTENT, NON_PERSISTENT or ALL.
func (s *Server) namespaceTopicsLocked(ns, mode string) []string {
	out := []string{}
	for name, t := range s.topics {
		if t.name.namespace != ns {
			continue
		}
		persistent := strings.HasPrefix(name, "persistent://")
		if (mode == "PERSISTENT" && !persistent) || (mode == "NON_PERSISTENT" && persistent) {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// ensureNamespaceLocked registers the tenant and namespace of a topic that
// a client uses, so that the admin API lists them.
func (s *Server) ensureNamespaceLocked(ns string) {
	if _, ok := s.namespaces[ns]; ok {
		return
	}
	s.namespaces[ns] = &namespaceInfo{quotas: map[string]backlogQuota{}}
	tenant, _, _ := strings.Cut(ns, "/")
	if _, ok := s.tenants[tenant]; !ok {
		s.tenants[tenant] = &tenantInfo{AdminRoles: []string{}, AllowedClusters: []string{"standalone"}}
	}
}
