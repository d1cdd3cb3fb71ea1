/* dev.c - backend-independent device helpers (fcap/dev.h). */
#include "fcap/dev.h"

void fcap_dev_close(struct fcap_dev *dev)
{
	if (dev)
		dev->ops->close(dev);
}
