"""Durable work after the ack: the runner (`runner`), Slack deliveries sent once (`deliver`),
reminders and grade requests (`reminders`), and periodic work on APScheduler (`periodic`)."""
