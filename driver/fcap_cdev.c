// SPDX-License-Identifier: GPL-2.0
/*
 * fcap_cdev.c - /dev/fcapN: open, ioctl, mmap, poll.
 *
 * Any number of opens may read identity, geometry and counters, map the
 * rings and poll. The one open for writing owns the card: only it may
 * start, stop and return blocks, and closing it stops capture. Access is
 * the device node's permissions (0660; a udev rule gives it a group,
 * docs/DRIVER.md): no capability is asked for, so a user in that group
 * can capture.
 *
 * Hardening: ioctls are matched on the whole command number (size and
 * direction included) through one table; flags and reserved fields must
 * be zero; mmap ranges must lie inside one chunk of one ring and be
 * read-only for good (VM_MAYWRITE cleared); nothing returned is an address.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "fcap.h"
#include "fcap_check.h"

static dev_t fcap_devt;
static struct class *fcap_class;

static int fcap_open(struct inode *inode, struct file *file)
{
	struct fcap_dev *fdev = fcap_dev_lookup(iminor(inode));
	int rc = 0;

	if (!fdev)
		return -ENXIO;
	mutex_lock(&fdev->lock);
	if (fdev->gone)
		rc = -ENXIO;
	else if ((file->f_mode & FMODE_WRITE) && fdev->owner)
		rc = -EBUSY;
	else if (file->f_mode & FMODE_WRITE)
		fdev->owner = file;
	mutex_unlock(&fdev->lock);
	if (rc) {
		fcap_dev_put(fdev);
		return rc;
	}
	file->private_data = fdev;
	return stream_open(inode, file);
}

static int fcap_release(struct inode *inode, struct file *file)
{
	struct fcap_dev *fdev = file->private_data;

	mutex_lock(&fdev->lock);
	if (fdev->owner == file) {
		/* The controlling process is gone: nobody consumes the rings any more. */
		if (fdev->running && !fdev->gone) {
			fcap_wr(fdev, FCAP_REG_CTRL, 0);
			fdev->running = false;
		}
		fdev->owner = NULL;
	}
	mutex_unlock(&fdev->lock);
	fcap_dev_put(fdev);
	return 0;
}

/* ---- ioctls ---------------------------------------------------------- */

union fcap_ioc_arg {
	struct fcap_ioc_info info;
	struct fcap_ioc_dt dt;
	struct fcap_ioc_ring ring;
	struct fcap_ioc_start start;
	struct fcap_ioc_stop stop;
	struct fcap_ioc_release release;
	struct fcap_ioc_counters counters;
};

static int fcap_ioc_info(struct fcap_dev *fdev, union fcap_ioc_arg *a)
{
	struct fcap_ioc_info *i = &a->info;

	i->id = fdev->id;
	i->version = fdev->version;
	i->uapi_version = FCAP_UAPI_VERSION;
	i->dt_size = fdev->dt_size;
	i->nrings = fdev->nrings;
	i->nports = fdev->nports;
	i->state = fdev->running ? FCAP_STATE_RUNNING : FCAP_STATE_STOPPED;
	i->irq_mode = fdev->irq_mode;
	return 0;
}

/*
 * Runs without fdev->lock: copy_to_user() may fault and take mmap_lock,
 * which mmap() holds when it takes fdev->lock. The blob never changes and
 * lives as long as the open file.
 */
static int fcap_ioc_get_dt(struct fcap_dev *fdev, union fcap_ioc_arg *a)
{
	struct fcap_ioc_dt *d = &a->dt;

	if (fcap_check_dt_args(d))
		return -EINVAL;
	d->size = fdev->dt_size;
	if (d->len < fdev->dt_size)
		return -ENOSPC;
	if (copy_to_user(u64_to_user_ptr(d->buf), fdev->dt, fdev->dt_size))
		return -EFAULT;
	return 0;
}

static int fcap_ioc_ring(struct fcap_dev *fdev, union fcap_ioc_arg *a)
{
	struct fcap_ioc_ring *g = &a->ring;
	const struct fcap_ring *ring;

	if (fcap_check_ring_args(g, fdev->nrings))
		return -EINVAL;
	ring = &fdev->rings[g->ring];
	g->nblocks = ring->nblocks;
	g->block_size = ring->block_size;
	g->chunk_blocks = ring->chunk_blocks;
	g->status_len = ring->status.len;
	g->status_offset = ring->status_offset;
	g->blocks_offset = ring->blocks_offset;
	g->prod = fcap_ring_prod(ring);
	g->cons = ring->cons;
	return 0;
}

static int fcap_ioc_start(struct fcap_dev *fdev, union fcap_ioc_arg *a)
{
	if (fcap_check_start_args(&a->start, fdev->dt_info.max_snaplen, fdev->rings[0].nblocks))
		return -EINVAL;
	if (fdev->running)
		return -EBUSY;
	return fcap_card_start(fdev, &a->start);
}

static int fcap_ioc_stop(struct fcap_dev *fdev, union fcap_ioc_arg *a)
{
	if (fcap_check_stop_args(&a->stop))
		return -EINVAL;
	return fcap_card_stop(fdev);
}

static int fcap_ioc_release(struct fcap_dev *fdev, union fcap_ioc_arg *a)
{
	if (fcap_check_release_args(&a->release, fdev->nrings))
		return -EINVAL;
	return fcap_ring_release(&fdev->rings[a->release.ring], a->release.cons);
}

static int fcap_ioc_counters(struct fcap_dev *fdev, union fcap_ioc_arg *a)
{
	if (fcap_check_counters_args(&a->counters))
		return -EINVAL;
	return fcap_read_counters(fdev, &a->counters);
}

struct fcap_ioctl {
	unsigned int cmd;
	int (*fn)(struct fcap_dev *fdev, union fcap_ioc_arg *a);
	bool owner_only;
	bool unlocked;		/* touches user memory: must not hold fdev->lock */
};

static const struct fcap_ioctl fcap_ioctls[] = {
	{ FCAP_IOC_INFO, fcap_ioc_info, false, false },
	{ FCAP_IOC_GET_DT, fcap_ioc_get_dt, false, true },
	{ FCAP_IOC_RING, fcap_ioc_ring, false, false },
	{ FCAP_IOC_START, fcap_ioc_start, true, false },
	{ FCAP_IOC_STOP, fcap_ioc_stop, true, false },
	{ FCAP_IOC_RELEASE, fcap_ioc_release, true, false },
	{ FCAP_IOC_COUNTERS, fcap_ioc_counters, false, false },
};

static const struct fcap_ioctl *fcap_find_ioctl(unsigned int cmd)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fcap_ioctls); i++)
		if (fcap_ioctls[i].cmd == cmd)
			return &fcap_ioctls[i];
	return NULL;
}

static long fcap_ioctl(struct file *file, unsigned int cmd, unsigned long uarg)
{
	struct fcap_dev *fdev = file->private_data;
	const struct fcap_ioctl *ioc = fcap_find_ioctl(cmd);
	void __user *up = (void __user *)uarg;
	size_t size = _IOC_SIZE(cmd);
	union fcap_ioc_arg *a;
	long rc;

	/* The whole number matches, so size is exactly the structure's. */
	if (!ioc || size > sizeof(*a))
		return -ENOTTY;
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return -ENOMEM;
	if ((_IOC_DIR(cmd) & _IOC_WRITE) && copy_from_user(a, up, size)) {
		rc = -EFAULT;
		goto out;
	}
	if (ioc->unlocked) {
		rc = READ_ONCE(fdev->gone) ? -ENODEV : ioc->fn(fdev, a);
	} else {
		mutex_lock(&fdev->lock);
		if (fdev->gone)
			rc = -ENODEV;
		else if (ioc->owner_only && fdev->owner != file)
			rc = -EPERM;
		else
			rc = ioc->fn(fdev, a);
		mutex_unlock(&fdev->lock);
	}
	/* ENOSPC still tells GET_DT's caller the size it needs. */
	if ((rc == 0 || rc == -ENOSPC) && (_IOC_DIR(cmd) & _IOC_READ) && copy_to_user(up, a, size))
		rc = -EFAULT;
out:
	kfree(a);
	return rc;
}

/* ---- mmap ------------------------------------------------------------ */

static void fcap_vm_open(struct vm_area_struct *vma)
{
	fcap_dev_get(vma->vm_private_data);
}

static void fcap_vm_close(struct vm_area_struct *vma)
{
	fcap_dev_put(vma->vm_private_data);
}

static const struct vm_operations_struct fcap_vm_ops = {
	.open = fcap_vm_open,
	.close = fcap_vm_close,
};

/* The chunk of some ring that [off, off + len) lies in, or NULL. */
static const struct fcap_chunk *fcap_find_chunk(struct fcap_dev *fdev, u64 off, u64 len, u64 *skip)
{
	unsigned int r;
	u32 c;

	for (r = 0; r < fdev->nrings; r++) {
		const struct fcap_ring *ring = &fdev->rings[r];
		struct fcap_map_layout l = {
			.status_offset = ring->status_offset,
			.status_len = ring->status.len,
			.blocks_offset = ring->blocks_offset,
			.nblocks = ring->nblocks,
			.block_size = ring->block_size,
			.chunk_blocks = ring->chunk_blocks,
		};

		if (fcap_map_find(&l, off, len, &c, skip) == 0)
			return c == FCAP_MAP_STATUS ? &ring->status : &ring->chunks[c];
	}
	return NULL;
}

static void fcap_vma_set_flags(struct vm_area_struct *vma)
{
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP | VM_DONTCOPY;
	vma->vm_flags &= ~VM_MAYWRITE;
}

static int fcap_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct fcap_dev *fdev = file->private_data;
	u64 len = vma->vm_end - vma->vm_start, off, skip;
	const struct fcap_chunk *chunk;
	int rc;

	/* The card writes these pages; user space only reads them. */
	if (vma->vm_flags & VM_WRITE)
		return -EPERM;
	if (vma->vm_pgoff > (U64_MAX >> PAGE_SHIFT))
		return -EINVAL;
	off = (u64)vma->vm_pgoff << PAGE_SHIFT;

	/*
	 * No fdev->lock here: the caller holds mmap_lock, and an ioctl that
	 * faults holds fdev->lock first. The rings never change after probe and
	 * live as long as this open file; a card removed meanwhile only leaves
	 * a mapping of memory it can no longer write.
	 */
	if (READ_ONCE(fdev->gone))
		return -ENODEV;
	chunk = fcap_find_chunk(fdev, off, len, &skip);
	if (!chunk)
		return -EINVAL;
	fcap_vma_set_flags(vma);
	/* dma_mmap_coherent() takes vm_pgoff as the offset inside the chunk. */
	vma->vm_pgoff = skip >> PAGE_SHIFT;
	rc = dma_mmap_coherent(&fdev->pdev->dev, vma, chunk->cpu, chunk->dma, chunk->len);
	if (rc)
		return rc;
	vma->vm_ops = &fcap_vm_ops;
	vma->vm_private_data = fdev;
	fcap_dev_get(fdev);	/* vm_ops->open is not called for the first mapping */
	return 0;
}

/* ---- poll ------------------------------------------------------------ */

static __poll_t fcap_poll(struct file *file, struct poll_table_struct *pt)
{
	struct fcap_dev *fdev = file->private_data;

	poll_wait(file, &fdev->wait, pt);
	if (READ_ONCE(fdev->gone))
		return EPOLLHUP | EPOLLERR;
	if (fcap_rings_ready(fdev))
		return EPOLLIN | EPOLLRDNORM;
	fcap_irq_arm(fdev);
	/* A block published while arming raised no interrupt we can rely on: look again. */
	if (fcap_rings_ready(fdev))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

static const struct file_operations fcap_fops = {
	.owner = THIS_MODULE,
	.open = fcap_open,
	.release = fcap_release,
	.unlocked_ioctl = fcap_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = fcap_mmap,
	.poll = fcap_poll,
	.llseek = no_llseek,
};

/* ---- registration ------------------------------------------------------ */

static char *fcap_devnode(struct device *dev, umode_t *mode)
{
	if (mode)
		*mode = 0660;	/* owner root; the group comes from a udev rule */
	return NULL;
}

int fcap_cdev_add(struct fcap_dev *fdev)
{
	dev_t devt = MKDEV(MAJOR(fcap_devt), fdev->minor);
	int rc;

	fdev->cdev = cdev_alloc();
	if (!fdev->cdev)
		return -ENOMEM;
	fdev->cdev->owner = THIS_MODULE;
	fdev->cdev->ops = &fcap_fops;
	rc = cdev_add(fdev->cdev, devt, 1);
	if (rc) {
		kobject_put(&fdev->cdev->kobj);
		fdev->cdev = NULL;
		return rc;
	}
	fdev->class_dev = device_create_with_groups(fcap_class, &fdev->pdev->dev, devt, fdev,
						    fdev->groups, "%s", fdev->name);
	if (IS_ERR(fdev->class_dev)) {
		rc = PTR_ERR(fdev->class_dev);
		fdev->class_dev = NULL;
		cdev_del(fdev->cdev);
		fdev->cdev = NULL;
		return rc;
	}
	return 0;
}

void fcap_cdev_del(struct fcap_dev *fdev)
{
	device_destroy(fcap_class, MKDEV(MAJOR(fcap_devt), fdev->minor));
	fdev->class_dev = NULL;
	cdev_del(fdev->cdev);
	fdev->cdev = NULL;
}

int fcap_cdev_init(void)
{
	int rc = alloc_chrdev_region(&fcap_devt, 0, FCAP_MAX_CARDS, FCAP_DRV_NAME);

	if (rc)
		return rc;
	fcap_class = class_create(THIS_MODULE, FCAP_DRV_NAME);
	if (IS_ERR(fcap_class)) {
		unregister_chrdev_region(fcap_devt, FCAP_MAX_CARDS);
		return PTR_ERR(fcap_class);
	}
	fcap_class->devnode = fcap_devnode;
	return 0;
}

void fcap_cdev_exit(void)
{
	class_destroy(fcap_class);
	unregister_chrdev_region(fcap_devt, FCAP_MAX_CARDS);
}
