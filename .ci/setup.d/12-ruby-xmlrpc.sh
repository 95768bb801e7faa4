#!/usr/bin/env bash
# Ruby's xmlrpc client for the XML-RPC interop tests (another real XML-RPC client; since
# Ruby 3 the library is a separate package). Idempotent: installs only what is absent.
set -euo pipefail
. "$(dirname "$0")/../lib/apt.bash"

check() {
  ruby -e 'require "xmlrpc/client"
    puts "ruby #{RUBY_VERSION}, xmlrpc #{Gem::Specification.find_all_by_name("xmlrpc").first&.version}"'
}

step "ruby-xmlrpc: install ruby ruby-xmlrpc" apt_install ruby ruby-xmlrpc
step "ruby-xmlrpc: require xmlrpc/client" check
