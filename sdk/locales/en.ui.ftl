## Aftercare: page labels and further messages, English.

tracking-ready-for-pickup =
    { $has_name ->
        [0] Hi!
       *[other] Hi { $first_name }!
    } Your order { $order_number } is ready for pickup. Details and opening hours:
    { $tracking_url }
survey-reminder =
    { $has_name ->
        [0] Hi again!
       *[other] Hi again, { $first_name }!
    } We'd still love to hear how your order { $order_number } went. It takes ten seconds:
    { $url }
survey-ces-invite =
    { $has_name ->
        [0] Hi!
       *[other] Hi { $first_name }!
    } How easy was it to get your order { $order_number }? { $replies ->
        [0] Tap a score from 1 to 7 here:
       *[other] Reply 1 (very difficult) to 7 (very easy), or tap here:
    }
    { $url }
review-request =
    Thank you for the great rating! Would you share it in a short review? It helps other customers:
    { $url }
support-detractor-alert = Unhappy customer: order { $order_number } got { $kind } { $score }.{ $has_comment ->
        [0] {""}
       *[other] {" "}Comment: { $comment }
    }
email-subject-update = An update on your order { $order_number }
email-subject-alert = Unhappy customer on order { $order_number }
tutorials-intro = Getting started with your purchase:
page-order = Order
page-status = Status
page-carrier = Carrier
page-tracking-number = Tracking number
page-estimated-delivery = Estimated delivery
page-track-on-carrier = Track on the carrier's site
page-timeline = Shipment history
page-items = Items
page-tutorials = Guides for your products
page-support = Contact support
page-link-invalid = This link is not valid.
page-link-expired = This link has expired.
page-unavailable = This page is unavailable right now. Please try again in a few minutes.
status-confirmed = Order confirmed
status-label-created = Label created
status-picked-up = Picked up by the carrier
status-in-transit = In transit
status-out-for-delivery = Out for delivery
status-attempted-delivery = Delivery attempted
status-ready-for-pickup = Ready for pickup
status-delivered = Delivered
status-delayed = Delayed
status-exception = Delivery problem
status-returned = Returned to sender
status-cancelled = Cancelled
status-unknown = Status update
survey-nps-question = How likely are you to recommend { $shop_name } to a friend?
survey-csat-question = How satisfied are you with your order from { $shop_name }?
survey-ces-question = How easy was it to get your order from { $shop_name }?
survey-nps-low = Not at all likely
survey-nps-high = Extremely likely
survey-csat-low = Very dissatisfied
survey-csat-high = Very satisfied
survey-ces-low = Very difficult
survey-ces-high = Very easy
survey-comment-label = What is the main reason for your score? (optional)
survey-submit = Send
survey-confirm-hint = Your score is selected. Tap Send to confirm it.
survey-already-answered = You have already answered. Thank you!
survey-pick-a-score = Please choose a score.
dash-title = Customer satisfaction
dash-response-rate = Response rate
dash-trend = NPS by week
dash-distribution = Score distribution
dash-by-carrier = By carrier
dash-by-product = By product
dash-by-lateness = By delivery lateness
dash-week = Week
dash-responses = Answers
dash-login-title = Sign in to the dashboard
dash-login-key = Dashboard key
dash-login-submit = Sign in
dash-login-wrong = That key is not right.
dash-logout = Sign out

# The carrier's own text and the pickup point (tracking sources).
carrier-note = The carrier says: { $carrier_note }
pickup-point = Pickup point: { $pickup_point }
page-pickup-point = Pickup point
dash-too-few = Too few answers to score
dash-csat-distribution = CSAT answers (1–5)
dash-ces-distribution = CES answers (1–7)
dash-group = Group
dash-lateness-on-time = On time
dash-lateness-1-2 = 1–2 days late
dash-lateness-3-plus = 3 or more days late
dash-unknown = Unknown
dash-download = Download the answers:
recovery-apology =
    { $has_name ->
        [0] We're sorry
       *[other] { $first_name }, we're sorry
    } that your order { $order_number } did not arrive as it should. We are on it, and we will make it right.
recovery-apology-code =
    { $has_name ->
        [0] We're sorry
       *[other] { $first_name }, we're sorry
    } that your order { $order_number } did not arrive as it should. As an apology, here is { $discount } off your next order with the code { $code }.

page-error-help = { $shop_name } is happy to help with your order.
page-back-to-shop = Back to { $shop_name }
survey-review-prompt = Glad you liked it! Would you tell others in a review?
survey-review-link = Write a review

# The dashboard's retention page.
ret-title = Retention
ret-customers = Customers
ret-repeat-customers = Ordered twice or more
ret-repeat-rate = Re-ordered within { $days } days
ret-median = Median time to a second order
ret-days = { $days } days
ret-churn = Churned: no order for { $days } days ({ $multiple } × the median interval of { $median } days)
ret-churn-none = Churn: no customer has ordered twice yet
ret-too-few = Too few customers
ret-download = Download the figures:
ret-costs = What the experience costs
ret-compare-with = compared with
ret-compare-too-few = too few customers to compare
ret-compare-same = no clear difference
ret-compare-less = { $points } points less often
ret-compare-more = { $points } points more often
ret-chart-lateness = Repeat rate by lateness of the first delivery (95% intervals)
ret-chart-cohorts = Share with a second order, by months since the first, per first-order month
ret-cohorts = Cohorts
ret-first-order = First order
ret-months = { $months } mo
ret-dim-lateness = Delivery lateness
ret-dim-carrier = Carrier
ret-dim-exception = Shipment exception
ret-dim-failed-attempt = Failed delivery attempt
ret-dim-nps = NPS answer
ret-dim-csat = CSAT answer
ret-dim-ces = CES answer
ret-dim-product = First product
ret-dim-recovery = Service recovery
ret-yes = Yes
ret-no = No
ret-group-promoter = Promoters
ret-group-passive = Passives
ret-group-detractor = Detractors
ret-group-satisfied = Satisfied
ret-group-neutral = Neutral
ret-group-unsatisfied = Unsatisfied
ret-group-easy = Easy
ret-group-hard = Hard
ret-group-recovered = Recovery action taken
ret-group-not-recovered = No recovery action
