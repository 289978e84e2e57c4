/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Unit tests that need EAL (mempools, rte_hash, rte_acl, graphs): one lcore,
 * no hugepages, no PCI, and a file prefix of the test's own so that tests
 * running side by side do not meet.
 */
#ifndef AP_EAL_TEST_H
#define AP_EAL_TEST_H

#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>

/* EAL for test @p name with @p mem_mb MiB of memory and, unless NULL, the
 * virtual device @p vdev ("net_null0"); < 0 on failure. */
static inline int
ap_test_eal_init_vdev(const char *name, const char *mem_mb, const char *vdev)
{
	char prefix[64], dev[64];
	char *argv[] = {(char *)name,	     "--no-huge",      "-m", (char *)mem_mb,
			"--no-pci",	     "--no-telemetry", "-l", "0",
			"--log-level=error", prefix,	       dev,  NULL};

	snprintf(prefix, sizeof(prefix), "--file-prefix=%s-%d", name, (int)getpid());
	snprintf(dev, sizeof(dev), "--vdev=%s", vdev ? vdev : "");
	return rte_eal_init(vdev ? 11 : 10, argv);
}

/* EAL for test @p name with @p mem_mb MiB of memory; < 0 on failure. */
static inline int
ap_test_eal_init(const char *name, const char *mem_mb)
{
	return ap_test_eal_init_vdev(name, mem_mb, NULL);
}

#endif
